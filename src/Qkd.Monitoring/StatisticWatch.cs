using System.Globalization;

namespace Qkd.Monitoring;

/// <summary>A value of one statistic on one block and its counting error (one sigma), in the statistic's unit.</summary>
public readonly record struct Measurement(double Value, double Sigma);

/// <summary>
/// Change detection on one statistic: a baseline learnt over the warm-up and then followed slowly while calm, a two-sided
/// <see cref="Cusum"/> on z = (x - baseline) / sqrt(sigma_count^2 (1 + f) + floor^2) (f: the baseline's own variance, in
/// blocks' counting variances), and at most one raised alarm per side.
/// Not thread-safe: the <see cref="LinkMonitor"/> drives it from one thread.
/// </summary>
internal sealed class StatisticWatch(string name, string unit, AlarmKind? up, AlarmKind? down, MonitorOptions options,
    Func<BlockObservation, double?, Measurement?> measure, Func<double, double> floor, Func<double, string> format)
{
    private readonly Cusum _cusum = new(options.Drift, options.Decision);
    private double _warmupSum;
    private int _warmupCount;
    private LinkAlarm? _raisedUp, _raisedDown;
    private int _calmUp, _calmDown;
    // The baseline's own variance in units of one block's counting variance: 1/W after the warm-up, then following the
    // exponential average, f <- (1 - w)^2 f + w^2, towards w / (2 - w). A baseline learnt from few counts is uncertain too.
    private double _baselineVariance;

    public string Name => name;

    public double? Baseline { get; private set; }

    public double? LastValue { get; private set; }

    public double? LastZ { get; private set; }

    public double? LastSigma { get; private set; }

    public StatisticState State => new(name, unit, LastValue, Baseline, LastSigma, LastZ, _cusum.Upper, _cusum.Lower, _raisedUp?.Id ?? _raisedDown?.Id);

    /// <summary>Measures the block and moves the chart; raises or clears alarms on <paramref name="board"/>.</summary>
    public void Observe(BlockObservation block, AlarmBoard board, List<LinkAlarm> raised, List<LinkAlarm> cleared)
    {
        if (measure(block, Baseline) is not { } m || !double.IsFinite(m.Value)) return;
        LastValue = m.Value;
        if (Baseline is not double baseline)
        {
            _warmupSum += m.Value;
            if (++_warmupCount >= options.WarmupBlocks)
            {
                Baseline = _warmupSum / _warmupCount;
                _baselineVariance = 1.0 / _warmupCount;
            }
            return;
        }
        double noise = floor(baseline);
        double sigma = Math.Sqrt(m.Sigma * m.Sigma * (1 + _baselineVariance) + noise * noise);
        if (!(sigma > 0) || !double.IsFinite(sigma)) return; // nothing to standardise against (no counts, no floor)
        LastSigma = sigma;
        double z = (m.Value - baseline) / sigma;
        LastZ = z;
        _cusum.Add(z);
        if (up is null) _cusum.ResetUpper();
        if (down is null) _cusum.ResetLower();

        Side(up, rising: true, z, m.Value, baseline, sigma, block, board, raised, cleared, ref _raisedUp, ref _calmUp);
        Side(down, rising: false, z, m.Value, baseline, sigma, block, board, raised, cleared, ref _raisedDown, ref _calmDown);

        double half = options.Decision / 2;
        if (_raisedUp is null && _raisedDown is null && _cusum.Upper < half && _cusum.Lower < half)
        {
            double w = options.BaselineWeight;
            Baseline = baseline + w * (m.Value - baseline);
            _baselineVariance = (1 - w) * (1 - w) * _baselineVariance + w * w;
        }
    }

    /// <summary>Forgets the baseline (the next blocks learn it again); raised alarms stay until they clear.</summary>
    public void Relearn()
    {
        Baseline = null;
        _warmupSum = 0;
        _warmupCount = 0;
        _cusum.Reset();
    }

    private void Side(AlarmKind? kind, bool rising, double z, double value, double baseline, double sigma, BlockObservation block, AlarmBoard board,
        List<LinkAlarm> raised, List<LinkAlarm> cleared, ref LinkAlarm? alarm, ref int calm)
    {
        if (kind is not AlarmKind k) return;
        double sum = rising ? _cusum.Upper : _cusum.Lower;
        if (alarm is null)
        {
            if (sum <= options.Decision) return;
            string direction = rising ? "rose" : "fell";
            string message = string.Create(CultureInfo.InvariantCulture,
                $"{name} {direction} from {format(baseline)} to {format(value)} ({z:+0.0;-0.0} sigma on block {block.BlockId}, sigma {format(sigma)}; CUSUM {sum:F1} > h {options.Decision:F1})");
            alarm = board.Raise(new LinkAlarm(0, k, name, options.ThreatensSecurity(k), block.Time, block.BlockId, message, value, options.Decision)
            {
                Unit = unit, Baseline = baseline, Sigma = sigma, Cusum = sum,
            });
            raised.Add(alarm);
            calm = 0;
            return;
        }
        // Back within k sigmas of the baseline on this side for ClearBlocks blocks in a row: cleared, and the side's sum restarts.
        bool within = rising ? z < options.Drift : z > -options.Drift;
        calm = within ? calm + 1 : 0;
        if (calm < options.ClearBlocks) return;
        if (board.Clear(alarm.Id, block.Time, block.BlockId, value) is { } done) cleared.Add(done);
        alarm = null;
        calm = 0;
        if (rising) _cusum.ResetUpper();
        else _cusum.ResetLower();
    }
}

/// <summary>One statistic as the monitor sees it now (for the events endpoint and status pages). Null: not measured yet.</summary>
/// <param name="Z">The last block's standardised deviation from the baseline.</param>
/// <param name="Upper">S+ and S-, in sigmas.</param>
/// <param name="RaisedAlarm">The id of an alarm raised on it, or null.</param>
public sealed record StatisticState(string Name, string Unit, double? Value, double? Baseline, double? Sigma, double? Z, double Upper, double Lower, long? RaisedAlarm);
