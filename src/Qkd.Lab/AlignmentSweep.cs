using Qkd.Acquisition;
using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Emulation;
using Qkd.Node.Devices;
using Qkd.Node.Link;

namespace Qkd.Lab;

/// <summary>
/// Alignment calibration: sweeps the modulator's phase (polarisation) setting of one basis and measures the QBER of
/// each basis at every step from Alice's emission log (the lab's view: every sifted bit compared, nothing distilled),
/// then takes the setting with the lowest QBER in the swept basis.
/// </summary>
public static class AlignmentSweep
{
    public sealed record Step(double PhaseRadians, double QberZ, double QberX, long SiftedZ, long SiftedX);

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
            var (qz, qx, nz, nx) = MeasureQber(rig, profile, settings, symbols, pulsesPerStep, seed + (ulong)index, cancellationToken);
            steps.Add(new Step(phase, qz, qx, nz, nx));
        }
        Func<Step, double> qber = basis == Basis.Z ? s => s.QberZ : s => s.QberX;
        var best = steps.MinBy(qber)!;
        return new Result(basis, steps, best.PhaseRadians, qber(best), pulsesPerStep);
    }

    /// <summary>
    /// One emission through the rig; Bob's detections (acquisition, clock recovery, decoder) compared with Alice's symbols
    /// in matching bases: QBER per basis and sifted counts.
    /// </summary>
    public static (double QberZ, double QberX, long SiftedZ, long SiftedX) MeasureQber(LinkRig rig, LinkProfile profile, LinkSettings settings,
        ISymbolSource symbols, long pulses, ulong seed, CancellationToken cancellationToken)
    {
        var taggerOptions = EmulatedLinkRunner.TaggerOptionsFor(settings, long.MaxValue);
        var emission = rig.StartEmission(symbols, pulses);
        long[] sifted = new long[2], errors = new long[2];
        using (var frontEnd = new TimeTagFrontEnd(emission, EmulatedLinkRunner.ClockRecoveryOptionsFor(profile, settings, taggerOptions), profile.ReceiverLayout,
                   Xoshiro256StarStar.ForStream(seed, "lab-squashing")))
        {
            frontEnd.Start();
            var detections = new Detection[1 << 14];
            int n;
            while ((n = frontEnd.Read(detections, cancellationToken)) > 0)
            {
                foreach (ref readonly Detection d in detections.AsSpan(0, n))
                {
                    var sent = symbols.SymbolAt(d.PulseIndex);
                    if (sent.Basis != d.Basis) continue;
                    int b = (int)d.Basis;
                    sifted[b]++;
                    if (sent.Bit != d.Bit) errors[b]++;
                }
            }
        }
        emission.EmissionStopped.Wait(cancellationToken);
        return (Ratio(errors[0], sifted[0]), Ratio(errors[1], sifted[1]), sifted[0], sifted[1]);
    }

    private static double Ratio(long a, long b) => b > 0 ? (double)a / b : double.NaN;
}
