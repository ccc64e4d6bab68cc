using Qkd.Acquisition;
using Qkd.Calibration;
using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Emulation;
using Qkd.Node.Devices;
using Qkd.Node.Link;

namespace Qkd.Lab;

/// <summary>
/// Alignment calibration: sweeps the modulator's phase (polarisation) setting of one basis and measures the QBER of
/// each basis at every step from Alice's emission log (<see cref="QberTally"/>: every sifted bit compared, nothing
/// distilled), then takes the setting with the lowest QBER in the swept basis (<see cref="SweepOptimum.Lowest"/>).
/// </summary>
public static class AlignmentSweep
{
    /// <param name="QberZ">QBER of the Z basis at this setting; NaN when nothing was sifted in it.</param>
    public sealed record Step(double PhaseRadians, double QberZ, double QberX, long SiftedZ, long SiftedX);

    /// <param name="OptimumPhaseRadians">The setting with the lowest QBER in <paramref name="Basis"/>; NaN when no step sifted a bit in it.</param>
    /// <param name="MinimumQber">That QBER; NaN likewise.</param>
    public sealed record Result(Basis Basis, IReadOnlyList<Step> Steps, double OptimumPhaseRadians, double MinimumQber, long PulsesPerStep);

    /// <param name="rig">Connected and configured for <paramref name="profile"/> and <paramref name="settings"/>.</param>
    public static Result Run(LinkRig rig, LinkProfile profile, LinkSettings settings, Basis basis, double fromRadians, double toRadians, double stepRadians,
        long pulsesPerStep, ulong seed, CancellationToken cancellationToken = default)
    {
        if (!(stepRadians > 0) || toRadians < fromRadians || (toRadians - fromRadians) / stepRadians > 1000)
            throw new ArgumentException($"The sweep {fromRadians}..{toRadians} rad in steps of {stepRadians} rad is empty or longer than 1000 steps.");
        var steps = new List<Step>();
        int index = 0;
        for (double phase = fromRadians; phase <= toRadians + 1e-12; phase += stepRadians, index++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            rig.Modulator.SetBasisPhaseRadians(basis, phase);
            var symbols = EmulatedSetup.AliceSymbols(settings, seed + (ulong)index);
            var tally = MeasureQber(rig, profile, settings, symbols, pulsesPerStep, seed + (ulong)index, cancellationToken);
            steps.Add(new Step(phase, tally.Qber(Basis.Z), tally.Qber(Basis.X), tally.Sifted(Basis.Z), tally.Sifted(Basis.X)));
        }
        double[] qbers = steps.Select(s => basis == Basis.Z ? s.QberZ : s.QberX).ToArray();
        int best = SweepOptimum.Lowest(qbers);
        return best < 0
            ? new Result(basis, steps, double.NaN, double.NaN, pulsesPerStep)
            : new Result(basis, steps, steps[best].PhaseRadians, qbers[best], pulsesPerStep);
    }

    /// <summary>
    /// One emission through the rig; Bob's detections (acquisition, clock recovery, decoder) compared with Alice's symbols
    /// in matching bases.
    /// </summary>
    public static QberTally MeasureQber(LinkRig rig, LinkProfile profile, LinkSettings settings, ISymbolSource symbols, long pulses, ulong seed,
        CancellationToken cancellationToken)
    {
        var taggerOptions = EmulatedSetup.TaggerOptionsFor(settings, long.MaxValue);
        var emission = rig.StartEmission(symbols, pulses);
        var tally = new QberTally();
        using (var frontEnd = new TimeTagFrontEnd(emission, EmulatedSetup.ClockRecoveryOptionsFor(profile, settings, taggerOptions), profile.ReceiverLayout,
                   Xoshiro256StarStar.ForStream(seed, "lab-squashing")))
        {
            frontEnd.Start();
            var detections = new Detection[1 << 14];
            int n;
            while ((n = frontEnd.Read(detections, cancellationToken)) > 0)
                tally.Add(detections.AsSpan(0, n), symbols);
        }
        emission.EmissionStopped.Wait(cancellationToken);
        return tally;
    }
}
