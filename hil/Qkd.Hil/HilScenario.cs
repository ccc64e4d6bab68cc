using Qkd.Emulation;

namespace Qkd.Hil;

/// <summary>
/// One hardware-in-the-loop scenario: a link run, usually with a fault inflicted mid-run, and what must then hold. The
/// assertions are the same on every target; only the run length differs (a target says whether a run is long enough
/// to finish a key block).
/// </summary>
public abstract class HilScenario
{
    public abstract string Name { get; }

    /// <summary>The fault this scenario needs, or null for a plain run.</summary>
    public virtual Fault? Needs => null;

    /// <summary>The link the scenario runs (the target's profile, adjusted).</summary>
    public virtual LinkProfile Profile(HilTarget target) => target.LinkProfile();

    public abstract Task RunAsync(HilRun run, CancellationToken cancellationToken);

    public override string ToString() => Name;

    /// <summary>Every scenario's scenarios, one class per file under Scenarios/.</summary>
    public static IReadOnlyList<HilScenario> All { get; } =
    [
        new Scenarios.LinkAtDistance(10),
        new Scenarios.LinkAtDistance(50),
        new Scenarios.DetectorUnpluggedMidRun(),
        new Scenarios.TaggerOverflow(),
        new Scenarios.InterlockOpens(),
        new Scenarios.CrcErrorsOnLine(),
        new Scenarios.ModulatorLosesBiasLock(),
        .. Lab.Drill.DrillCatalogue.All.Select(attack => new Scenarios.AttackOnTheChannel(attack)),
    ];
}
