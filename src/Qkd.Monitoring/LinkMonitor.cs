using System.Globalization;
using Qkd.Core;

namespace Qkd.Monitoring;

/// <summary>
/// Watches one link end over time: takes one <see cref="BlockObservation"/> per block (<see cref="Observe"/>), estimates
/// the link from it (<see cref="LinkEstimator"/>) and runs a CUSUM per statistic (<see cref="Cusum"/>), raising and
/// clearing alarms on its <see cref="Board"/>. Statistics and the alarms they raise:
/// loss (dB; up: <see cref="AlarmKind.LossStep"/>, down: <see cref="AlarmKind.TransmittanceRise"/>),
/// decoy_minus_signal_loss (dB; <see cref="AlarmKind.DecoyInconsistency"/> both ways),
/// qber.Z and qber.X (up: <see cref="AlarmKind.QberRise"/>),
/// vacuum_yield (down: <see cref="AlarmKind.Blinding"/>, up: <see cref="AlarmKind.BackgroundRise"/>),
/// off_gate (down: <see cref="AlarmKind.Blinding"/>, up: <see cref="AlarmKind.AfterpulseRise"/>),
/// detector.N.share (<see cref="AlarmKind.DetectorImbalance"/> both ways),
/// in_gate_share, detector.N.arrival (mean arrival offset, ps) and arrival_spread (ps) (<see cref="AlarmKind.TimingAnomaly"/> both ways).
/// One caller at a time may call <see cref="Observe"/> (the distillation thread); the board and <see cref="Latest"/> may
/// be read from any thread.
/// </summary>
public sealed class LinkMonitor
{
    private readonly MonitorOptions _options;
    private readonly List<StatisticWatch> _watches = [];
    private readonly List<StatisticWatch> _detectorWatches = [];
    private readonly List<StatisticWatch> _arrivalWatches = [];
    private readonly object _stateGate = new();
    private LinkEstimates? _latest;
    private StatisticState[] _states = [];
    private long _blocks;

    public LinkMonitor(MonitorOptions? options = null, AlarmBoard? board = null)
    {
        _options = options ?? MonitorOptions.Default;
        _options.Validate();
        Board = board ?? new AlarmBoard(_options.HistoryLength);
        var o = _options;
        _watches.Add(new StatisticWatch("loss", "dB", AlarmKind.LossStep, AlarmKind.TransmittanceRise, o, MeasureLoss, _ => o.LossNoiseDb, Db));
        _watches.Add(new StatisticWatch("decoy_minus_signal_loss", "dB", AlarmKind.DecoyInconsistency, AlarmKind.DecoyInconsistency, o, MeasureDecoyConsistency,
            _ => o.LossNoiseDb, Db));
        _watches.Add(new StatisticWatch("qber.Z", "1", AlarmKind.QberRise, null, o, (b, r) => Proportion(Sum(b.ErrorsZ), Sum(b.SiftedZ), r),
            _ => o.QberNoise, Percent));
        _watches.Add(new StatisticWatch("qber.X", "1", AlarmKind.QberRise, null, o, (b, r) => Proportion(Sum(b.ErrorsX), Sum(b.SiftedX), r),
            _ => o.QberNoise, Percent));
        _watches.Add(new StatisticWatch("vacuum_yield", "1", AlarmKind.BackgroundRise, AlarmKind.Blinding, o, MeasureVacuum,
            baseline => o.DarkCountNoise * baseline, Probability));
        _watches.Add(new StatisticWatch("off_gate", "1", AlarmKind.AfterpulseRise, AlarmKind.Blinding, o,
            (b, r) => b.OffGateTags is long off && b.Slots is long slots ? Proportion(off, slots, r) : null, baseline => o.OffGateNoise * baseline, Probability));
        _watches.Add(new StatisticWatch("in_gate_share", "1", AlarmKind.TimingAnomaly, AlarmKind.TimingAnomaly, o,
            (b, r) => b.InGateTags is long inGate && b.OffGateTags is long offGate ? Proportion(inGate, inGate + offGate, r) : null,
            _ => o.InGateShareNoise, Percent));
        _watches.Add(new StatisticWatch("arrival_spread", "ps", AlarmKind.TimingAnomaly, AlarmKind.TimingAnomaly, o, MeasureArrivalSpread,
            _ => o.ArrivalNoisePs, Picoseconds));
    }

    public AlarmBoard Board { get; }

    public MonitorOptions Options => _options;

    /// <summary>Blocks observed so far.</summary>
    public long Blocks => Interlocked.Read(ref _blocks);

    /// <summary>The last block's estimates (null before the first).</summary>
    public LinkEstimates? Latest
    {
        get
        {
            lock (_stateGate) return _latest;
        }
    }

    /// <summary>Every statistic's value, baseline and CUSUM after the last block.</summary>
    public IReadOnlyList<StatisticState> Statistics
    {
        get
        {
            lock (_stateGate) return _states;
        }
    }

    /// <summary>After each block, with its estimates (on the observing thread; handlers must be quick).</summary>
    public event Action<LinkEstimates>? Observed;

    /// <summary>Takes one block; returns its estimates and the alarms it raised and cleared.</summary>
    /// <exception cref="ArgumentException">The observation is inconsistent (the message names the field); nothing changes.</exception>
    public MonitorStep Observe(BlockObservation block)
    {
        ArgumentNullException.ThrowIfNull(block);
        var estimates = LinkEstimator.Estimate(block); // validates first
        var raised = new List<LinkAlarm>();
        var cleared = new List<LinkAlarm>();
        if (_options.Enabled)
        {
            EnsureDetectorWatches(block.ClicksPerDetector?.Length ?? 0);
            EnsureArrivalWatches(block.ArrivalTags?.Length ?? 0);
            foreach (var watch in _watches) watch.Observe(block, Board, raised, cleared);
        }
        lock (_stateGate)
        {
            _latest = estimates;
            _states = _watches.Select(w => w.State).ToArray();
        }
        Interlocked.Increment(ref _blocks);
        Observed?.Invoke(estimates);
        return new MonitorStep(estimates, raised, cleared);
    }

    /// <summary>
    /// Forgets every baseline: the next <see cref="MonitorOptions.WarmupBlocks"/> blocks learn them again (an operator
    /// who has checked a change, a repaired or re-routed fibre, accepts the link as it is now). Raised alarms stay raised
    /// until they clear by the rule, against the new baseline.
    /// </summary>
    public void Relearn()
    {
        foreach (var watch in _watches) watch.Relearn();
    }

    private void EnsureDetectorWatches(int detectors)
    {
        for (int d = _detectorWatches.Count; d < detectors; d++)
        {
            int index = d;
            var watch = new StatisticWatch($"detector.{index}.share", "1", AlarmKind.DetectorImbalance, AlarmKind.DetectorImbalance, _options,
                (b, r) => b.ClicksPerDetector is { } clicks && index < clicks.Length ? Proportion(clicks[index], clicks.Sum(), r) : null,
                _ => _options.DetectorShareNoise, Percent);
            _detectorWatches.Add(watch);
            _watches.Add(watch);
        }
    }

    private void EnsureArrivalWatches(int detectors)
    {
        for (int d = _arrivalWatches.Count; d < detectors; d++)
        {
            int index = d;
            var watch = new StatisticWatch($"detector.{index}.arrival", "ps", AlarmKind.TimingAnomaly, AlarmKind.TimingAnomaly, _options,
                (b, _) => MeasureArrivalMean(b, index), _ => _options.ArrivalNoisePs, Picoseconds);
            _arrivalWatches.Add(watch);
            _watches.Add(watch);
        }
    }

    /// <summary>Fewest in-gate tags of a detector whose mean arrival is measured (fewer say nothing about timing).</summary>
    internal const long MinArrivalTags = 100;

    /// <summary>One detector's mean arrival offset, ps, with its standard error s / sqrt(n) (s the block's own spread).</summary>
    internal static Measurement? MeasureArrivalMean(BlockObservation block, int detector)
    {
        if (block.ArrivalTags is not { } tags || detector >= tags.Length || tags[detector] < MinArrivalTags) return null;
        long n = tags[detector];
        double mean = block.ArrivalSumPs![detector] / n;
        double variance = Math.Max(0, block.ArrivalSumSquaresPs2![detector] / n - mean * mean);
        return new Measurement(mean, Math.Sqrt(variance / n));
    }

    /// <summary>
    /// The spread (RMS) of all in-gate arrivals about each detector's own mean, ps, with its standard error s / sqrt(2N)
    /// (the normal approximation).
    /// </summary>
    internal static Measurement? MeasureArrivalSpread(BlockObservation block, double? baseline)
    {
        if (block.ArrivalTags is not { } tags) return null;
        long total = 0;
        double squares = 0;
        for (int d = 0; d < tags.Length; d++)
        {
            if (tags[d] <= 0) continue;
            double mean = block.ArrivalSumPs![d] / tags[d];
            squares += Math.Max(0, block.ArrivalSumSquaresPs2![d] - tags[d] * mean * mean);
            total += tags[d];
        }
        if (total < MinArrivalTags) return null;
        double spread = Math.Sqrt(squares / total);
        return new Measurement(spread, (baseline ?? spread) / Math.Sqrt(2.0 * total));
    }

    private static Measurement? MeasureLoss(BlockObservation block, double? baseline)
    {
        double y0 = LinkEstimator.BackgroundYield(block) ?? 0;
        if (LinkEstimator.LossDb(block, Intensity.Signal, y0) is not double loss) return null;
        int s = (int)Intensity.Signal;
        return new Measurement(loss, LinkEstimator.LossSigmaDb(baseline ?? loss, block.MeanPhotonNumbers[s], y0, block.Pulses[s]));
    }

    private static Measurement? MeasureDecoyConsistency(BlockObservation block, double? baseline)
    {
        double y0 = LinkEstimator.BackgroundYield(block) ?? 0;
        if (LinkEstimator.LossDb(block, Intensity.Signal, y0) is not double signal || LinkEstimator.LossDb(block, Intensity.Decoy, y0) is not double decoy)
            return null;
        if (signal >= LinkEstimator.MaxLossDb || decoy >= LinkEstimator.MaxLossDb) return null; // no light: the loss statistic speaks
        int s = (int)Intensity.Signal, d = (int)Intensity.Decoy;
        double sigmaS = LinkEstimator.LossSigmaDb(signal, block.MeanPhotonNumbers[s], y0, block.Pulses[s]);
        double sigmaD = LinkEstimator.LossSigmaDb(decoy, block.MeanPhotonNumbers[d], y0, block.Pulses[d]);
        return new Measurement(decoy - signal, Math.Sqrt(sigmaS * sigmaS + sigmaD * sigmaD));
    }

    private static Measurement? MeasureVacuum(BlockObservation block, double? baseline)
    {
        int v = (int)Intensity.Vacuum;
        if (LinkEstimator.BackgroundYield(block) is not double y0) return null;
        return new Measurement(y0, BinomialSigma(baseline ?? y0, block.Pulses[v]));
    }

    /// <summary>count / total with its binomial sigma at the baseline proportion (at the observed one before there is a baseline).</summary>
    internal static Measurement? Proportion(long count, long total, double? baseline)
    {
        if (total <= 0) return null;
        double p = (double)count / total;
        return new Measurement(p, BinomialSigma(baseline ?? p, total));
    }

    /// <summary>sqrt(p (1 - p) / n), never below one count's worth (1 / n): a proportion seen as 0 is not known exactly.</summary>
    internal static double BinomialSigma(double p, long n) =>
        n <= 0 ? double.PositiveInfinity : Math.Sqrt(Math.Max(p * (1 - p), 1.0 / n) / n);

    private static long Sum(long[]? values) => values?.Sum() ?? 0;

    private static string Db(double value) => value.ToString("F3", CultureInfo.InvariantCulture) + " dB";

    private static string Percent(double value) => (100 * value).ToString("F3", CultureInfo.InvariantCulture) + " %";

    private static string Picoseconds(double value) => value.ToString("F1", CultureInfo.InvariantCulture) + " ps";

    private static string Probability(double value) => value.ToString("0.###E+0", CultureInfo.InvariantCulture);
}

/// <summary>What one block did to the monitor.</summary>
public sealed record MonitorStep(LinkEstimates Estimates, IReadOnlyList<LinkAlarm> Raised, IReadOnlyList<LinkAlarm> Cleared);
