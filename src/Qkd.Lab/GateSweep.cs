using Qkd.Calibration;
using Qkd.Core.TimeTags;
using Qkd.Emulation;
using Qkd.Node.Devices;
using Qkd.Node.Link;

namespace Qkd.Lab;

/// <summary>
/// Gate calibration: sweeps the detectors' gate delay, counts the detections a short emission gives at each step, and
/// takes the delay with the most counts (the gate sits on the light; <see cref="SweepOptimum.MostCounts"/>). Works on any
/// rig: the emission and the counting go through the drivers.
/// </summary>
public static class GateSweep
{
    public sealed record Step(long GateDelayPs, long Detections);

    public sealed record Result(IReadOnlyList<Step> Steps, long OptimumDelayPs, long GateWidthPs, long PulsesPerStep)
    {
        /// <summary>
        /// Counts at the optimum over the mean of the two ends of the sweep (how clearly the gate found the light);
        /// positive infinity when the ends counted nothing (<see cref="SweepOptimum.Contrast"/>).
        /// </summary>
        public double Contrast => SweepOptimum.Contrast(Counts(Steps));
    }

    /// <param name="rig">Connected and configured for <paramref name="settings"/>.</param>
    public static Result Run(LinkRig rig, LinkSettings settings, long fromPs, long toPs, long stepPs, long gateWidthPs, long pulsesPerStep,
        ulong seed, CancellationToken cancellationToken = default)
    {
        if (stepPs <= 0 || toPs < fromPs) throw new ArgumentException($"The sweep {fromPs}..{toPs} ps in steps of {stepPs} ps is empty.");
        if ((toPs - fromPs) / stepPs > 1000) throw new ArgumentException($"The sweep {fromPs}..{toPs} ps in steps of {stepPs} ps has more than 1000 steps.");
        rig.Detector.SetGated(true);
        var steps = new List<Step>();
        var symbols = EmulatedSetup.AliceSymbols(settings, seed);
        for (long delay = fromPs; delay <= toPs; delay += stepPs)
        {
            cancellationToken.ThrowIfCancellationRequested();
            for (int head = 0; head < rig.Detector.Heads; head++)
            {
                rig.Detector.SetGateWidthPs(head, gateWidthPs);
                rig.Detector.SetGateDelayPs(head, delay);
            }
            steps.Add(new Step(delay, CountDetections(rig, symbols, pulsesPerStep, cancellationToken)));
        }
        return new Result(steps, steps[SweepOptimum.MostCounts(Counts(steps))].GateDelayPs, gateWidthPs, pulsesPerStep);
    }

    private static long[] Counts(IReadOnlyList<Step> steps) => steps.Select(s => s.Detections).ToArray();

    /// <summary>Emits <paramref name="pulses"/> pulses and counts the tags on detector inputs (not the sync).</summary>
    internal static long CountDetections(LinkRig rig, Core.Symbols.ISymbolSource symbols, long pulses, CancellationToken cancellationToken)
    {
        var emission = rig.StartEmission(symbols, pulses);
        var buffer = new TimeTag[8192];
        long detections = 0;
        int n;
        while ((n = emission.Read(buffer, cancellationToken)) > 0)
            foreach (ref readonly TimeTag tag in buffer.AsSpan(0, n))
                if (tag.IsEvent && tag.Channel != 0) detections++;
        emission.EmissionStopped.Wait(cancellationToken);
        return detections;
    }
}
