namespace Qkd.Acquisition;

/// <summary>
/// Where clock recovery's per-detector gate counts stood at points of the pulse stream, so that a reader on another
/// thread (the link monitor, when a block finishes) can take the counts up to a given pulse, whatever how far clock
/// recovery has run since. Reading the live counters instead gives counts up to wherever the acquisition happens to be
/// at that moment: a timing-dependent interval that, on a loaded machine, ran a clean block's interval into the
/// attacked light after it (issue 15: an off-gate jump of hundreds of sigma on a clean first block).
/// </summary>
/// <remarks>
/// <para>A checkpoint is recorded every <see cref="ClockRecovery.CheckpointTags"/> detector tags that clock recovery
/// places on a pulse (in or out of the gate), keyed by that tag's pulse, holding the counts of every tag placed before
/// it: a function of the tag stream alone, not of how it was cut into batches or when it was read. Keys never
/// decrease. Once the click of pulse P has been handed out, every later tag falls after P, so every checkpoint at or
/// before P is already here (<see cref="At"/> then gives the same answer whenever it is called).</para>
/// <para>A fixed ring of <see cref="Capacity"/> checkpoints, written under a lock taken once per checkpoint: nothing is
/// allocated after construction. A reader that falls more than a ring behind gets null (counted by its caller).</para>
/// </remarks>
public sealed class GateCountHistory
{
    private readonly object _gate = new();
    private readonly int _detectors;
    private readonly double _periodPs;
    private readonly long[] _pulses;
    private readonly long[] _inGate;
    private readonly long[] _outOfGate;
    private readonly double[] _offsetSum;
    private readonly double[] _offsetSquares;
    private long _recorded;
    private long _lateReads;

    /// <param name="detectors">Detectors per checkpoint.</param>
    /// <param name="capacity">Checkpoints held (the oldest is overwritten).</param>
    /// <param name="periodPs">The nominal pulse period: offsets are held in periods and read in ps.</param>
    public GateCountHistory(int detectors, int capacity, double periodPs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(detectors, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 2);
        _detectors = detectors;
        _periodPs = periodPs;
        Capacity = capacity;
        _pulses = new long[capacity];
        _inGate = new long[capacity * detectors];
        _outOfGate = new long[capacity * detectors];
        _offsetSum = new double[capacity * detectors];
        _offsetSquares = new double[capacity * detectors];
    }

    /// <summary>Checkpoints held at most.</summary>
    public int Capacity { get; }

    /// <summary>Checkpoints recorded so far (the ring holds the last <see cref="Capacity"/>).</summary>
    public long Recorded
    {
        get
        {
            lock (_gate) return _recorded;
        }
    }

    /// <summary>Reads (<see cref="At"/>) whose checkpoint had already been overwritten: the reader fell a ring behind.</summary>
    public long LateReads
    {
        get
        {
            lock (_gate) return _lateReads;
        }
    }

    /// <summary>Records the counts (offsets in pulse periods) as they stand before the first tag of <paramref name="pulse"/>.</summary>
    internal void Record(long pulse, long[] inGate, long[] outOfGate, double[] offsetSum, double[] offsetSquares)
    {
        lock (_gate)
        {
            int entry = (int)(_recorded % Capacity);
            _pulses[entry] = _recorded > 0 ? Math.Max(pulse, _pulses[(int)((_recorded - 1) % Capacity)]) : pulse;
            int at = entry * _detectors;
            Array.Copy(inGate, 0, _inGate, at, _detectors);
            Array.Copy(outOfGate, 0, _outOfGate, at, _detectors);
            Array.Copy(offsetSum, 0, _offsetSum, at, _detectors);
            Array.Copy(offsetSquares, 0, _offsetSquares, at, _detectors);
            _recorded++;
        }
    }

    /// <summary>
    /// The counts at the last checkpoint at or before <paramref name="pulse"/> (in clock recovery's numbering); all zero
    /// at pulse 0 when no checkpoint is that early; null when that checkpoint has already been overwritten.
    /// </summary>
    public GateCounts? At(long pulse)
    {
        lock (_gate)
        {
            long oldest = Math.Max(0, _recorded - Capacity);
            long lo = oldest, hi = _recorded - 1, found = -1;
            while (lo <= hi)
            {
                long mid = lo + (hi - lo) / 2;
                if (_pulses[(int)(mid % Capacity)] <= pulse)
                {
                    found = mid;
                    lo = mid + 1;
                }
                else hi = mid - 1;
            }
            if (found < 0)
            {
                if (oldest == 0) return new GateCounts(0, new long[_detectors], new long[_detectors], new double[_detectors], new double[_detectors]);
                _lateReads++;
                return null;
            }
            int entry = (int)(found % Capacity), at = entry * _detectors;
            var sum = new double[_detectors];
            var squares = new double[_detectors];
            for (int d = 0; d < _detectors; d++)
            {
                sum[d] = _offsetSum[at + d] * _periodPs;
                squares[d] = _offsetSquares[at + d] * _periodPs * _periodPs;
            }
            return new GateCounts(_pulses[entry], _inGate.AsSpan(at, _detectors).ToArray(), _outOfGate.AsSpan(at, _detectors).ToArray(), sum, squares);
        }
    }
}

/// <summary>
/// Clock recovery's cumulative counts per detector up to a point of the pulse stream (<see cref="GateCountHistory"/>).
/// </summary>
/// <param name="Pulse">The point: counts of the tags placed before the first tag of this pulse (clock recovery's numbering).</param>
/// <param name="InGate">Tags inside the gate, per detector.</param>
/// <param name="OutOfGate">Tags placed on a pulse but outside its gate, per detector.</param>
/// <param name="OffsetSumPs">Sum of the in-gate tags' offsets from the expected arrival, ps, per detector.</param>
/// <param name="OffsetSquaresPs2">Sum of their squares, ps^2, per detector.</param>
public sealed record GateCounts(long Pulse, long[] InGate, long[] OutOfGate, double[] OffsetSumPs, double[] OffsetSquaresPs2);
