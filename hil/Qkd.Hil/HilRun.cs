using Qkd.Hardware.Peripherals;
using Qkd.ClassicalChannel;
using Qkd.Hardware.RandomNumberGenerator;
using Qkd.Lab.Run;
using Qkd.Emulation;
using Qkd.Node.Devices;
using Qkd.Node.Link;

namespace Qkd.Hil;

/// <summary>
/// One scenario on one target: builds the target's rig and runs the link through the same runner `qkd run` uses,
/// calling back when a given share of the run has passed so the scenario can inflict its fault mid-run.
/// </summary>
public sealed class HilRun(HilTarget target, string keysDirectory)
{
    public HilTarget Target { get; } = target;

    /// <summary>Runs the link; <paramref name="midRun"/> is called once, on the run's thread, at <paramref name="at"/> of the run.</summary>
    public async Task<(LinkReport Report, LinkRig Rig)> RunLinkAsync(LinkProfile profile, ulong seed,
        Action<LinkRig, IFaultInjector>? midRun = null, double at = 0.4, CancellationToken cancellationToken = default,
        LinkSettings? settings = null)
    {
        var options = new EmulatedRunOptions
        {
            Profile = profile,
            Settings = settings ?? Target.LinkSettings(),
            ProfileSource = Target.Profile ?? "built-in default",
            DurationSeconds = Target.DurationSeconds,
            Seed = seed,
            KeysDirectory = keysDirectory,
        };
        long endPulse = options.Pulses;
        var rig = Target.CreateRig(profile, options.Settings, seed);
        IFaultInjector faults = rig.Emulated is not null ? new EmulatedFaultInjector(rig) : new HardwareFaultInjector(Target.Name);
        bool fired = false;
        var progress = new SynchronousProgress<LinkProgress>(p =>
        {
            if (fired || midRun is null || p.PulsesSent < at * endPulse) return;
            fired = true;
            midRun(rig, faults);
        });
        try
        {
            var report = await new EmulatedLinkRunner(options, rig: rig).RunAsync(progress, cancellationToken);
            if (midRun is not null && !fired) throw new InvalidOperationException($"the run ended before {at:P0} of it had passed; the fault was never injected");
            return (report, rig);
        }
        catch
        {
            rig.Dispose();
            throw;
        }
    }

    /// <summary>Null when this target can inflict <paramref name="fault"/>; otherwise why not.</summary>
    public string? Unsupported(Fault fault) => Target.IsEmulated ? null : new HardwareFaultInjector(Target.Name).Unsupported(fault);

    /// <summary>IProgress that calls back on the reporting thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
