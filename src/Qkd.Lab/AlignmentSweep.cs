using System.Globalization;
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
/// Alignment calibration: sweeps the modulator's phase (polarisation) setting of one basis, with the other basis's
/// phase held where it was told (an option or the last calibration), and measures the QBER of each basis at every step
/// from Alice's emission log (<see cref="QberTally"/>: every sifted bit compared, nothing distilled). The optimum is
/// the step with the lowest QBER in the swept basis (<see cref="SweepOptimum.Lowest"/>), reported only when every step
/// sifted enough bits (<see cref="MinimumSiftedPerStep"/>) and it stands out of the noise
/// (<see cref="SweepOptimum.LowestSignificance"/>); otherwise the result says how much more data is needed.
/// </summary>
public static class AlignmentSweep
{
    /// <summary>
    /// Fewest sifted bits in the swept basis per step: the QBER of a step is then known to about 2.5 % at worst (a
    /// 50 % QBER), 0.5 % near a 1 % QBER; fewer cannot place an optimum.
    /// </summary>
    public const long MinimumSiftedPerStep = 400;

    /// <param name="QberZ">QBER of the Z basis at this setting; NaN when nothing was sifted in it.</param>
    public sealed record Step(double PhaseRadians, double QberZ, double QberX, long SiftedZ, long SiftedX)
    {
        public long ErrorsZ { get; init; }
        public long ErrorsX { get; init; }
        public double QberZUncertainty => QberTally.Uncertainty(ErrorsZ, SiftedZ);
        public double QberXUncertainty => QberTally.Uncertainty(ErrorsX, SiftedX);

        public double Qber(Basis basis) => basis == Basis.Z ? QberZ : QberX;
        public double QberUncertainty(Basis basis) => basis == Basis.Z ? QberZUncertainty : QberXUncertainty;
        public long Sifted(Basis basis) => basis == Basis.Z ? SiftedZ : SiftedX;
    }

    /// <param name="OptimumPhaseRadians">The setting with the lowest QBER in <paramref name="Basis"/>; NaN when the sweep refused (<see cref="Problem"/>).</param>
    /// <param name="MinimumQber">That QBER; NaN likewise.</param>
    public sealed record Result(Basis Basis, IReadOnlyList<Step> Steps, double OptimumPhaseRadians, double MinimumQber, long PulsesPerStep)
    {
        /// <summary>The other basis's phase during the sweep, rad; null: left as the device had it.</summary>
        public double? OtherPhaseRadians { get; init; }

        /// <summary>How clearly the optimum stands out (null for results made without it, as in older reports).</summary>
        public SweepSignificance? Significance { get; init; }

        /// <summary>Where the receiver timing came from (<see cref="LabReceiverTiming.Source"/>).</summary>
        public string? Timing { get; init; }

        /// <summary>Fibre length the measurement assumed, km.</summary>
        public double? DistanceKm { get; init; }

        /// <summary>Why no optimum is reported and how much more data is needed; null when the optimum stands.</summary>
        public string? Problem { get; init; }

        /// <summary>The optimum's standard uncertainty (NaN without an optimum).</summary>
        public double MinimumQberUncertainty =>
            Significance is { Best: >= 0 } s && double.IsFinite(OptimumPhaseRadians) ? Steps[s.Best].QberUncertainty(Basis) : double.NaN;
    }

    /// <param name="rig">Connected and configured for <paramref name="profile"/> and <paramref name="settings"/>, the detectors seeing the light.</param>
    /// <param name="timing">Where each detector's light arrives (<see cref="LabReceiverTiming"/>).</param>
    /// <param name="otherPhaseRadians">The other basis's phase, set before the sweep; null leaves it as it is.</param>
    public static Result Run(LinkRig rig, LinkProfile profile, LinkSettings settings, LabReceiverTiming timing, Basis basis, double fromRadians,
        double toRadians, double stepRadians, long pulsesPerStep, ulong seed, double? otherPhaseRadians = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rig);
        ArgumentNullException.ThrowIfNull(timing);
        if (!(stepRadians > 0) || !(toRadians >= fromRadians) || (toRadians - fromRadians) / stepRadians > 1000)
            throw new ArgumentException($"The sweep {fromRadians}..{toRadians} rad in steps of {stepRadians} rad is empty or longer than 1000 steps.");
        if (pulsesPerStep < 1) throw new ArgumentException($"The pulses per step must be at least 1, got {pulsesPerStep}.");
        var other = basis == Basis.Z ? Basis.X : Basis.Z;
        if (otherPhaseRadians is double o)
        {
            if (!double.IsFinite(o)) throw new ArgumentException($"The {other}-basis phase must be a finite number of radians, got {o}.");
            rig.Modulator.SetBasisPhaseRadians(other, o);
        }
        var steps = new List<Step>();
        int count = (int)Math.Floor((toRadians - fromRadians) / stepRadians + 1e-9) + 1;
        for (int index = 0; index < count; index++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            // From the index, not by accumulation: 0.2 added seven times is not 1.4.
            double phase = fromRadians + index * stepRadians;
            rig.Modulator.SetBasisPhaseRadians(basis, phase);
            var symbols = EmulatedSetup.AliceSymbols(settings, seed + (ulong)index);
            var tally = MeasureQber(rig, profile, timing, symbols, pulsesPerStep, seed + (ulong)index, cancellationToken);
            steps.Add(new Step(phase, tally.Qber(Basis.Z), tally.Qber(Basis.X), tally.Sifted(Basis.Z), tally.Sifted(Basis.X))
            {
                ErrorsZ = tally.Errors(Basis.Z),
                ErrorsX = tally.Errors(Basis.X),
            });
        }
        return Conclude(basis, steps, pulsesPerStep) with { OtherPhaseRadians = otherPhaseRadians, Timing = timing.Source, DistanceKm = profile.FibreLengthKm };
    }

    /// <summary>
    /// The optimum of measured steps, or why there is none: a step that sifted fewer than
    /// <see cref="MinimumSiftedPerStep"/> bits in the swept basis, or an optimum that does not stand out of the noise.
    /// </summary>
    public static Result Conclude(Basis basis, IReadOnlyList<Step> steps, long pulsesPerStep)
    {
        ArgumentNullException.ThrowIfNull(steps);
        if (steps.Count == 0) throw new ArgumentException("The sweep has no steps.", nameof(steps));
        double[] qbers = steps.Select(s => s.Qber(basis)).ToArray();
        double[] uncertainties = steps.Select(s => s.QberUncertainty(basis)).ToArray();
        var significance = SweepOptimum.LowestSignificance(qbers, uncertainties);
        var refused = new Result(basis, steps, double.NaN, double.NaN, pulsesPerStep) { Significance = significance };
        var thin = steps.Where(s => s.Sifted(basis) < MinimumSiftedPerStep).ToList();
        if (thin.Count > 0)
        {
            long fewest = thin.Min(s => s.Sifted(basis));
            var worst = thin.First(s => s.Sifted(basis) == fewest);
            string more = fewest == 0
                ? "no light was sifted there (is the light reaching the detectors? is the gate on it?)"
                : string.Create(CultureInfo.InvariantCulture,
                    $"emit about {Math.Ceiling((double)MinimumSiftedPerStep / fewest * pulsesPerStep):N0} pulses per step (--pulses)");
            return refused with
            {
                Problem = string.Create(CultureInfo.InvariantCulture,
                    $"{thin.Count} of {steps.Count} steps sifted fewer than {MinimumSiftedPerStep} bits in the {basis} basis (the fewest: {fewest} at " +
                    $"{worst.PhaseRadians:F3} rad, {pulsesPerStep:N0} pulses); {more}."),
            };
        }
        if (!significance.IsSignificant)
            return refused with
            {
                Problem = string.Create(CultureInfo.InvariantCulture,
                    $"no optimum stands out: the lowest {basis} QBER is {significance.Sigmas:F1} standard deviations below the highest, " +
                    $"{significance.RequiredSigmas:F1} are needed for {steps.Count} steps; ") +
                    (double.IsFinite(significance.DataFactorNeeded)
                        ? string.Create(CultureInfo.InvariantCulture,
                            $"if the curve is real, about {Math.Ceiling(significance.DataFactorNeeded * pulsesPerStep):N0} pulses per step (--pulses) would show it, or sweep a wider range.")
                        : "the QBER does not change over the range: sweep a wider range."),
            };
        var best = steps[significance.Best];
        return new Result(basis, steps, best.PhaseRadians, best.Qber(basis), pulsesPerStep) { Significance = significance };
    }

    /// <summary>
    /// One emission through the rig; Bob's detections (acquisition, clock recovery with <paramref name="timing"/>,
    /// decoder) compared with Alice's symbols in matching bases.
    /// </summary>
    public static QberTally MeasureQber(LinkRig rig, LinkProfile profile, LabReceiverTiming timing, ISymbolSource symbols, long pulses, ulong seed,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(timing);
        var emission = rig.StartEmission(symbols, pulses);
        var tally = new QberTally();
        using (var frontEnd = new TimeTagFrontEnd(emission, timing.Clock, profile.ReceiverLayout, Xoshiro256StarStar.ForStream(seed, "lab-squashing")))
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
