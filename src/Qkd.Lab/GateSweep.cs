using System.Globalization;
using Qkd.Calibration;
using Qkd.Core.TimeTags;
using Qkd.Node.Devices;
using Qkd.Node.Link;

namespace Qkd.Lab;

/// <summary>
/// Gate calibration: sweeps the detectors' gate delay, counts the detections a short emission gives at each step, and
/// takes the delay with the most counts (the gate sits on the light; <see cref="SweepOptimum.MostCounts"/>) when it
/// stands out of the Poisson noise of the others (<see cref="SweepOptimum.MostCountsSignificance"/>): a flat curve (the
/// light nowhere in the range, or too few pulses) reports no optimum and says how much more data would show one. Works
/// on any rig: the emission and the counting go through the drivers.
/// </summary>
public static class GateSweep
{
    /// <param name="Detections">Detector tags counted at this gate delay.</param>
    public sealed record Step(long GateDelayPs, long Detections)
    {
        /// <summary>Standard uncertainty of the count (Poisson: its square root, at least 1: zero counts is not an exact zero).</summary>
        public double Uncertainty => Math.Sqrt(Math.Max(1, Detections));
    }

    /// <param name="OptimumDelayPs">The delay with the most counts; null when the sweep refused (<see cref="Problem"/>).</param>
    public sealed record Result(IReadOnlyList<Step> Steps, long? OptimumDelayPs, long GateWidthPs, long PulsesPerStep)
    {
        /// <summary>
        /// Counts at the optimum over the mean of the two ends of the sweep (how clearly the gate found the light);
        /// positive infinity when the ends counted nothing (<see cref="SweepOptimum.Contrast"/>).
        /// </summary>
        public double Contrast => SweepOptimum.Contrast(Counts(Steps));

        /// <summary>How clearly the optimum stands out of the noise.</summary>
        public SweepSignificance Significance => SweepOptimum.MostCountsSignificance(Counts(Steps));

        /// <summary>Fibre length of the link the sweep assumed, km (null when not given).</summary>
        public double? DistanceKm { get; init; }

        /// <summary>Why no optimum is reported and how much more data is needed; null when the optimum stands.</summary>
        public string? Problem { get; init; }
    }

    /// <param name="rig">Connected and configured for <paramref name="settings"/>.</param>
    public static Result Run(LinkRig rig, LinkSettings settings, long fromPs, long toPs, long stepPs, long gateWidthPs, long pulsesPerStep,
        ulong seed, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rig);
        if (stepPs <= 0 || toPs < fromPs) throw new ArgumentException($"The sweep {fromPs}..{toPs} ps in steps of {stepPs} ps is empty.");
        if ((toPs - fromPs) / stepPs > 1000) throw new ArgumentException($"The sweep {fromPs}..{toPs} ps in steps of {stepPs} ps has more than 1000 steps.");
        if (pulsesPerStep < 1) throw new ArgumentException($"The pulses per step must be at least 1, got {pulsesPerStep}.");
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
        return Conclude(steps, gateWidthPs, pulsesPerStep);
    }

    /// <summary>The optimum of counted steps, or why there is none (<see cref="SweepOptimum.MostCountsSignificance"/>).</summary>
    public static Result Conclude(IReadOnlyList<Step> steps, long gateWidthPs, long pulsesPerStep)
    {
        ArgumentNullException.ThrowIfNull(steps);
        if (steps.Count == 0) throw new ArgumentException("The sweep has no steps.", nameof(steps));
        var significance = SweepOptimum.MostCountsSignificance(Counts(steps));
        if (significance.IsSignificant) return new Result(steps, steps[significance.Best].GateDelayPs, gateWidthPs, pulsesPerStep);
        string more = significance.Sigmas > 0
            ? string.Create(CultureInfo.InvariantCulture,
                $"if the light is in the range, about {Math.Ceiling(significance.DataFactorNeeded * pulsesPerStep):N0} pulses per step (--pulses) would show it; otherwise sweep another range.")
            : "nothing changes over the range: the light is not in it (sweep another range) or does not reach the detectors.";
        return new Result(steps, null, gateWidthPs, pulsesPerStep)
        {
            Problem = string.Create(CultureInfo.InvariantCulture,
                $"no gate delay stands out: the most counts ({steps[significance.Best].Detections:N0}) exceed the fewest by {significance.Sigmas:F1} " +
                $"standard deviations, {significance.RequiredSigmas:F1} are needed for {steps.Count} steps; ") + more,
        };
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
