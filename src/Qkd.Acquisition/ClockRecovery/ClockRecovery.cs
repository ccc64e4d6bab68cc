using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Qkd.Core;
using Qkd.Core.TimeTags;

namespace Qkd.Acquisition;

/// <summary>
/// Turns Bob's time tags into per-pulse <see cref="DetectorClick"/>s: recovers Alice's pulse clock from the sync
/// channel, assigns every detector tag to a pulse slot, rejects tags outside the gate window, and merges the tags of one
/// pulse into one click (its channel mask).
/// </summary>
/// <remarks>
/// <para>Anchoring. The k-th sync tag of the stream marks pulse <c>k * SyncDivider</c>; the first sync tag received is
/// pulse 0. Later sync indices follow from timing, so missing sync tags are bridged (and counted), but the first one
/// must be there.</para>
/// <para>Sync tracking. Each accepted sync tag updates an alpha-beta tracker of phase (time of the last sync pulse) and
/// period (Bob's picoseconds per Alice pulse, so offset and drift). Its gains are those of an exact least-squares line
/// over the syncs so far, until <c>SyncFilterLength</c> syncs, then stay there: a fading-memory fit that follows a
/// wandering drift. A sync tag further than the tolerance from its prediction is rejected as an anomaly; after 16
/// anomalies in a row the tracker re-locks on the current tag, keeping the pulse count it predicts.</para>
/// <para>Assignment. A detector tag at time t on detector d belongs to the pulse p whose light is expected at
/// <c>line(p + PathDelay / period) + delay_d</c>, where line is the tracked sync clock; p = round(x) for
/// x = (t - delay_d - phase) / period + k N - PathDelay / period - GateCentreOffset / period, and the tag is kept when
/// |x - p| is within half the gate width. The line is extrapolated from the latest sync, by at most one sync interval
/// plus the difference between sync and detector delays.</para>
/// <para>Merging and hand-out. Clicks are written in increasing pulse order. Because detector delays differ, a tag of
/// a pulse can arrive after tags of later pulses, so the last few clicks of a batch (those a future tag could still
/// join) are held back and handed out at the start of the next <see cref="Process"/> call or by <see cref="Flush"/>.</para>
/// <para><see cref="DetectorClick.TimePs"/> is the delay-compensated time of the click's first tag.
/// <see cref="DetectorClick.ActiveBasis"/> is always Z: an active receiver's basis comes from Bob's own choices, found
/// through the basis marker (<see cref="BasisMarkerPulse"/>: the slot of the first tag on the marker input, placed as a
/// detector tag would be, once the sync and the arrival phase are known).</para>
/// <para>No allocation per tag or per call. Not thread-safe: one consumer.</para>
/// </remarks>
public sealed class ClockRecovery
{
    private const byte SyncSlot = ClockRecoveryOptions.MaxDetectors;
    private const byte UnknownSlot = ClockRecoveryOptions.MaxDetectors + 1;
    private const byte MarkerSlot = ClockRecoveryOptions.MaxDetectors + 2;
    private const int AnomaliesBeforeRelock = 16;

    /// <summary>Placed detector tags between two checkpoints of <see cref="GateHistory"/>.</summary>
    public const int CheckpointTags = 8192;

    /// <summary>Checkpoints <see cref="GateHistory"/> holds: 2^26 placed tags, a few blocks of the largest size (2^23 bits) behind clock recovery.</summary>
    public const int CheckpointCapacity = 8192;

    private readonly byte[] _slotOfChannel;
    private readonly long[] _delays;
    private readonly long[] _anchors;
    private readonly long[] _outOfGate;
    private readonly long[] _inGate;
    private readonly double[] _offsetSum;
    private readonly double[] _offsetSquares;
    private readonly int _detectors;
    private readonly long _maxDelay;
    private readonly long _syncDelay;
    private readonly int _syncDivider;
    private readonly double _nominalPeriod;
    private readonly double _pathDelayPulses;
    private readonly double _gateCentrePs;
    private readonly double _gateHalfWidthPs;
    private readonly double _syncTolerancePs;
    private readonly int _filterLength;
    private readonly double[] _alphaOf;
    private readonly double[] _betaOf;
    private readonly int _syncsToLock;

    // Sync tracker: phase = time (sync-compensated) of pulse _syncPulse, as whole ps plus a fraction.
    private bool _hasSync;
    private long _phaseWhole;
    private double _phaseFraction;
    private double _period;
    private long _syncIndex;
    private int _syncsInFit;
    private int _anomalyRun;
    private bool _locked;

    // Hot-loop parameters derived from the tracker after every sync.
    private double _inversePeriod;
    private double _bias;
    private double _halfGatePulses;
    private long _basePulse;

    // Arrival phase search (an unknown path delay): detector tags folded onto the pulse period until it is found.
    // Bins of an eighth of the gate (at least 200 per period, at most 2^16): a fixed 200 bins is 5 ns at 1 MHz, far
    // coarser than a 330 ps gate, and the phase found then misses the light entirely.
    private readonly int PhaseBins;
    private readonly int _phaseCentroidHalfWidth;
    private readonly long[] _phaseBins;
    private int _phaseSearchRemaining;
    private bool _searching;
    private double _arrivalPhasePulses;
    // The folded tags themselves (position without the phase, pulse base of the sync they were placed against, detector,
    // time), assigned once the phase is known: the search must not cost the first detections of the stream, which carry
    // the pilot that frame synchronisation needs (on a lossy link 4096 detections span millions of pulses).
    private readonly double[] _searchX;
    private readonly long[] _searchBase;
    private readonly long[] _searchTime;
    private readonly byte[] _searchSlot;
    private readonly long[] _replayPulses;
    private readonly int[] _replayOrder;

    private DetectorClick[] _held;
    private int _heldCount;
    private readonly GateCountHistory _history;
    private int _untilCheckpoint = CheckpointTags;
    private long _finalPulse = long.MinValue;
    private long _lastTime = long.MinValue;
    private ClockRecoveryCounters _counters;

    // Basis marker: seen (time, delay-compensated), then positioned against a sync (fractional pulse, without the
    // arrival phase), then resolved once the arrival phase is known.
    private readonly long _markerDelay;
    private bool _markerSeen;
    private long _markerTime;
    private bool _markerPositioned;
    private double _markerPosition;
    private long? _markerPulse;

    /// <exception cref="ArgumentException">The options are invalid (see <see cref="ClockRecoveryOptions.Validate"/>).</exception>
    public ClockRecovery(ClockRecoveryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
        _detectors = options.DetectorChannels.Length;
        // Every ushort channel has an entry (64 KiB, of which the hot loop touches a line or two), so no range test.
        _slotOfChannel = new byte[ushort.MaxValue + 1];
        Array.Fill(_slotOfChannel, UnknownSlot);
        _slotOfChannel[options.SyncChannel] = SyncSlot;
        if (options.BasisMarkerChannel is ushort marker) _slotOfChannel[marker] = MarkerSlot;
        _markerDelay = options.BasisMarkerDelayPs;
        _delays = new long[_detectors];
        for (int d = 0; d < _detectors; d++)
        {
            _slotOfChannel[options.DetectorChannels[d]] = (byte)d;
            _delays[d] = options.DetectorDelayPs(d);
        }
        _maxDelay = _delays.Max();
        _anchors = new long[_detectors];
        _outOfGate = new long[_detectors];
        _inGate = new long[_detectors];
        _offsetSum = new double[_detectors];
        _offsetSquares = new double[_detectors];
        _syncDelay = options.SyncDelayPs;
        _syncDivider = options.SyncDivider;
        _nominalPeriod = options.PulsePeriodPs;
        _pathDelayPulses = options.PathDelayPs / _nominalPeriod;
        _gateCentrePs = options.GateCentreOffsetPs;
        _gateHalfWidthPs = options.GateWidthPs / 2;
        _syncTolerancePs = options.EffectiveSyncTolerancePs;
        _filterLength = options.SyncFilterLength;
        int gains = Math.Min(_filterLength, 4096) + 1; // a filter longer than that (no bound in the options) computes the rest
        _alphaOf = new double[gains];
        _betaOf = new double[gains];
        for (int n = 1; n < gains; n++)
        {
            _alphaOf[n] = 2.0 * (2 * n - 1) / ((double)n * (n + 1));
            _betaOf[n] = 6.0 / ((double)n * (n + 1));
        }
        _syncsToLock = options.SyncsToLock;
        _period = _nominalPeriod;
        _phaseSearchRemaining = options.ArrivalPhaseSearchTags;
        _searching = _phaseSearchRemaining > 0;
        PhaseBins = (int)Math.Clamp(Math.Ceiling(_nominalPeriod / Math.Max(1, options.GateWidthPs / 8)), 200, 1 << 16);
        // The centroid looks two gate widths either side of the peak (an eighth of the period at most).
        _phaseCentroidHalfWidth = Math.Max(2, Math.Min(PhaseBins / 16, (int)Math.Ceiling(2 * options.GateWidthPs / (_nominalPeriod / PhaseBins))));
        _phaseBins = _searching ? new long[PhaseBins] : [];
        int searchTags = _searching ? options.ArrivalPhaseSearchTags : 0;
        _searchX = new double[searchTags];
        _searchBase = new long[searchTags];
        _searchTime = new long[searchTags];
        _searchSlot = new byte[searchTags];
        _replayPulses = new long[searchTags];
        _replayOrder = new int[searchTags];

        // Clicks a future tag could still join span the delay spread plus the gate and a margin for tracker updates.
        long spread = _maxDelay - _delays.Min();
        int open = (int)Math.Min(1 << 20, Math.Ceiling(spread / _nominalPeriod * 1.01) + 8);
        // The folded tags come out as clicks in the call that finds the phase, on top of that call's own tags.
        MaxHeldClicks = open + searchTags;
        _held = new DetectorClick[open];
        _history = new GateCountHistory(_detectors, CheckpointCapacity, _nominalPeriod);
    }

    public ClockRecoveryOptions Options { get; }

    /// <summary>
    /// The most clicks held back between calls. A click destination of <c>tags.Length + MaxHeldClicks</c> is always
    /// large enough for <see cref="Process"/>.
    /// </summary>
    public int MaxHeldClicks { get; }

    /// <summary>Clicks held back for a possible merge, handed out by the next <see cref="Process"/> or <see cref="Flush"/>.</summary>
    public int HeldClicks => _heldCount;

    /// <summary>Whether enough sync tags have been seen to assign pulses.</summary>
    public bool IsLocked => _locked;

    /// <summary>Current estimate of Bob's picoseconds per Alice pulse (nominal period times 1 + drift).</summary>
    public double PeriodEstimatePs => _period;

    /// <summary>Current estimate of Bob's clock drift against Alice's, parts per million.</summary>
    public double DriftEstimatePpm => (_period / _nominalPeriod - 1) * 1e6;

    /// <summary>Index of the last sync pulse tracked (a multiple of the sync divider), or -1 before the first sync.</summary>
    public long LastSyncPulse => _hasSync ? _syncIndex * _syncDivider : -1;

    /// <summary>
    /// The pulse slot of the first basis-marker tag (pattern index 0 of an active receiver's bases), in this stream's
    /// pulse numbering; null until the marker was seen and both the sync and the arrival phase place it. May be negative
    /// (a marker before the first sync).
    /// </summary>
    public long? BasisMarkerPulse => _markerPulse;

    /// <summary>Whether the light's arrival phase is still being searched (tags are held meanwhile and assigned once it is found).</summary>
    public bool IsSearchingArrivalPhase => _searching;

    /// <summary>
    /// The arrival phase found by the search, ps within (−T/2, T/2], added to <see cref="ClockRecoveryOptions.PathDelayPs"/>;
    /// 0 without a search, NaN while it runs.
    /// </summary>
    public double ArrivalPhasePs => _searching ? double.NaN : _arrivalPhasePulses * _nominalPeriod;

    /// <summary>
    /// The per-detector gate counts at points of the pulse stream, for a reader on another thread that wants them up to
    /// a given pulse (a finished block's last) rather than up to wherever clock recovery is now.
    /// </summary>
    public GateCountHistory GateHistory => _history;

    /// <summary>A snapshot of the counters.</summary>
    public ClockRecoveryCounters Counters => _counters;

    /// <summary>Detector tags of detector <paramref name="detector"/> rejected by the gate.</summary>
    public long OutOfGate(int detector) => _outOfGate[detector];

    /// <summary>
    /// Where detector <paramref name="detector"/>'s tags fell inside the gate so far: how many, and the sum and the sum
    /// of squares of their offsets from the slot's expected arrival, ps (cumulative, for the link monitor's timing
    /// statistics: an attack that moves the light in time, such as a time-shift, moves the mean or widens the spread).
    /// </summary>
    public ArrivalOffsets ArrivalOffsetsOf(int detector) =>
        new(_inGate[detector], _offsetSum[detector] * _nominalPeriod, _offsetSquares[detector] * _nominalPeriod * _nominalPeriod);

    /// <summary>
    /// Processes a batch of tags (in non-decreasing time order, as every <see cref="ITimeTagSource"/> delivers them) and
    /// writes the finished clicks, in increasing pulse order, to <paramref name="clicks"/>; returns how many.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="clicks"/> is shorter than <c>tags.Length + HeldClicks</c>.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Process(ReadOnlySpan<TimeTag> tags, Span<DetectorClick> clicks)
    {
        // While the arrival phase is searched, the call that finds it also hands out the folded tags' clicks.
        int pending = _heldCount + (_searching ? _searchX.Length : 0);
        if (clicks.Length < tags.Length + pending)
            throw new ArgumentException(
                $"The click destination holds {clicks.Length}; {tags.Length} tags plus {pending} held clicks need {tags.Length + pending} (size it tags + MaxHeldClicks).",
                nameof(clicks));
        _held.AsSpan(0, _heldCount).CopyTo(clicks);
        int written = _heldCount;
        _heldCount = 0;

        // Hot-loop state in locals; reloaded after each sync tag, which is the only thing that changes them. The
        // per-detector arrays are read through refs: the slot is below the detector count (one test), which the JIT
        // cannot tie to the arrays' lengths, so indexing them would test each access again.
        ref byte slotOfChannel = ref MemoryMarshal.GetArrayDataReference(_slotOfChannel);
        ref long anchors = ref MemoryMarshal.GetArrayDataReference(_anchors);
        ref long delays = ref MemoryMarshal.GetArrayDataReference(_delays);
        ref long inGate = ref MemoryMarshal.GetArrayDataReference(_inGate);
        ref long outOfGateOf = ref MemoryMarshal.GetArrayDataReference(_outOfGate);
        ref double offsetSum = ref MemoryMarshal.GetArrayDataReference(_offsetSum);
        ref double offsetSquares = ref MemoryMarshal.GetArrayDataReference(_offsetSquares);
        ref DetectorClick click0 = ref MemoryMarshal.GetReference(clicks);
        ref TimeTag tag0 = ref MemoryMarshal.GetReference(tags);
        uint detectors = (uint)_detectors;
        // Not locked or still searching the arrival phase: the rare modes, tested once per detector tag.
        bool placing = _locked && !_searching;
        double inversePeriod = _inversePeriod, bias = _bias, halfGate = _halfGatePulses;
        long basePulse = _basePulse;
        long lastTime = _lastTime;
        // The pulse of the last click written (long.MinValue: none), so the merge test reads no memory.
        long lastPulse = written > 0 ? clicks[written - 1].PulseIndex : long.MinValue;
        int untilCheckpoint = _untilCheckpoint;
        long assigned = 0, merged = 0, beforeLock = 0, outOfGate = 0, outOfOrder = 0;
        int count = tags.Length;

        for (int i = 0; i < count; i++)
        {
            ref readonly TimeTag tag = ref Unsafe.Add(ref tag0, i);
            long t = tag.TimePs;
            if (t < lastTime)
            {
                outOfOrder++;
                continue;
            }
            lastTime = t;
            // The channel table covers every ushort channel; a rising edge on a detector has slot < detectors and kind 0.
            uint slot = Unsafe.Add(ref slotOfChannel, tag.Channel);
            if ((slot | ((uint)tag.Kind << 8)) >= detectors)
            {
                if (HandleNonDetector(in tag, (int)slot))
                {
                    placing = _locked && !_searching;
                    inversePeriod = _inversePeriod;
                    bias = _bias;
                    halfGate = _halfGatePulses;
                    basePulse = _basePulse;
                }
                continue;
            }
            double x = (t - Unsafe.Add(ref anchors, slot)) * inversePeriod - bias;
            if (!placing)
            {
                if (!_locked)
                {
                    beforeLock++;
                    continue;
                }
                int k = _searchX.Length - _phaseSearchRemaining;
                _searchX[k] = x;
                _searchBase[k] = basePulse;
                _searchTime[k] = t;
                _searchSlot[k] = (byte)slot;
                if (FoldArrivalPhase(x))
                {
                    placing = true;
                    bias = _bias;
                    written = AssignSearchTags(clicks, written, ref assigned, ref merged, ref outOfGate, ref beforeLock);
                    lastPulse = written > 0 ? clicks[written - 1].PulseIndex : long.MinValue;
                }
                continue;
            }
            double nearest = Math.Floor(x + 0.5);
            long pulse = basePulse + (long)nearest;
            if (--untilCheckpoint == 0)
            {
                // Every CheckpointTags placed tags, the counts before this one, at its pulse (see GateCountHistory).
                _history.Record(pulse, _inGate, _outOfGate, _offsetSum, _offsetSquares);
                untilCheckpoint = CheckpointTags;
            }
            double offset = x - nearest; // in pulse periods; ps when read (ArrivalOffsetsOf)
            if (Math.Abs(offset) > halfGate)
            {
                Unsafe.Add(ref outOfGateOf, slot)++;
                outOfGate++;
                continue;
            }
            if (pulse < 0)
            {
                beforeLock++;
                continue;
            }
            assigned++;
            Unsafe.Add(ref inGate, slot)++;
            Unsafe.Add(ref offsetSum, slot) += offset;
            Unsafe.Add(ref offsetSquares, slot) += offset * offset;
            byte bit = (byte)(1 << (int)slot);
            if (pulse <= lastPulse)
            {
                ref DetectorClick last = ref Unsafe.Add(ref click0, written - 1);
                if (pulse == lastPulse)
                {
                    last = last with { ChannelMask = (byte)(last.ChannelMask | bit) };
                    merged++;
                }
                else if (!InsertEarlier(clicks, ref written, pulse, t - Unsafe.Add(ref delays, slot), bit, ref merged))
                {
                    assigned--;
                }
                continue;
            }
            Unsafe.Add(ref click0, written++) = new DetectorClick(pulse, t - Unsafe.Add(ref delays, slot), bit, Basis.Z);
            lastPulse = pulse;
        }

        _lastTime = lastTime;
        _untilCheckpoint = untilCheckpoint;
        _counters.Tags += tags.Length;
        _counters.AssignedTags += assigned;
        _counters.MergedTags += merged;
        _counters.BeforeLock += beforeLock;
        _counters.OutOfGate += outOfGate;
        _counters.OutOfOrder += outOfOrder;
        return HoldBackOpenClicks(clicks, written);
    }

    /// <summary>Hands out the held-back clicks (at the end of a stream); returns how many were written.</summary>
    public int Flush(Span<DetectorClick> clicks)
    {
        if (clicks.Length < _heldCount)
            throw new ArgumentException($"The click destination holds {clicks.Length}, {_heldCount} clicks are held.", nameof(clicks));
        int n = _heldCount;
        _held.AsSpan(0, n).CopyTo(clicks);
        _heldCount = 0;
        if (n > 0) _finalPulse = clicks[n - 1].PulseIndex + 1;
        return n;
    }

    /// <summary>
    /// Sync, overflow, falling-edge or unknown-channel tag. Returns true when the tracker changed (the caller reloads
    /// its locals).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool HandleNonDetector(in TimeTag tag, int slot)
    {
        switch (tag.Kind)
        {
            case TimeTagKind.OverflowBegin:
                _counters.Overflows++;
                return false;
            case TimeTagKind.OverflowEnd:
                _counters.OverflowMissedEvents += tag.MissedEvents;
                return false;
            case not TimeTagKind.Rising:
                // Falling edges, and any kind value this code does not know, carry no timing it uses.
                _counters.FallingEdges++;
                return false;
        }
        if (slot == SyncSlot)
        {
            OnSync(tag.TimePs - _syncDelay);
            return true;
        }
        if (slot == MarkerSlot)
        {
            if (_markerSeen)
            {
                _counters.ExtraBasisMarkers++;
                return false;
            }
            _markerSeen = true;
            _markerTime = tag.TimePs - _markerDelay;
            PlaceMarker();
            return false;
        }
        _counters.UnknownChannel++;
        return false;
    }

    private void OnSync(long time)
    {
        if (!_hasSync)
        {
            _hasSync = true;
            _phaseWhole = time;
            _phaseFraction = 0;
            _syncIndex = 0;
            _syncsInFit = 1;
            _counters.SyncTags++;
            UpdateAssignment();
            return;
        }

        double interval = _syncDivider * _period;
        double elapsed = (time - _phaseWhole) - _phaseFraction;
        double intervals = Math.Round(elapsed / interval);
        double residual = elapsed - intervals * interval;
        if (intervals < 1 || Math.Abs(residual) > _syncTolerancePs)
        {
            _counters.SyncAnomalies++;
            if (++_anomalyRun < AnomaliesBeforeRelock || intervals < 1) return;
            // The clock jumped: restart the fit on this tag, keeping the pulse count the old period predicts.
            _counters.Relocks++;
            _syncIndex += (long)intervals;
            _phaseWhole = time;
            _phaseFraction = 0;
            _syncsInFit = 1;
            _anomalyRun = 0;
            _locked = false;
            UpdateAssignment();
            return;
        }
        _anomalyRun = 0;
        long steps = (long)intervals;
        _counters.MissingSyncs += steps - 1;
        _counters.SyncTags++;

        // Alpha-beta update with the gains of a least-squares line over n points (growing memory, capped).
        // The gains for n points come from a table made with the same expressions (so the same doubles), which spares
        // two divisions per sync tag.
        int n = Math.Min(_syncsInFit + 1, _filterLength);
        double alpha = n < _alphaOf.Length ? _alphaOf[n] : 2.0 * (2 * n - 1) / ((double)n * (n + 1));
        double beta = n < _betaOf.Length ? _betaOf[n] : 6.0 / ((double)n * (n + 1));
        double advance = intervals * interval + alpha * residual;
        _period += beta * residual / (intervals * _syncDivider);
        double phase = _phaseFraction + advance;
        double whole = Math.Floor(phase);
        _phaseWhole += (long)whole;
        _phaseFraction = phase - whole;
        _syncIndex += steps;
        _syncsInFit++;
        UpdateAssignment();
    }

    /// <summary>
    /// Folds one detector tag's phase (the fractional part of its pulse position) into the search; after the last
    /// one, sets the arrival phase from the fold's peak and returns true.
    /// </summary>
    /// <remarks>
    /// The light of every pulse arrives at the same phase (up to the jitter), dark counts anywhere: the peak is the
    /// fullest five-bin stretch around the circle, refined by the background-subtracted centroid of two gate widths
    /// (at most an eighth of a period) around it. The phase is wrapped into half a period either side, so the shift stays below one pulse.
    /// </remarks>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool FoldArrivalPhase(double x)
    {
        double fraction = x - Math.Floor(x);
        int bin = Math.Min(PhaseBins - 1, (int)(fraction * PhaseBins));
        _phaseBins[bin]++;
        _counters.PhaseSearchTags++;
        if (--_phaseSearchRemaining > 0) return false;

        long[] bins = _phaseBins;
        int peak = 0;
        long peakSum = -1;
        for (int b = 0; b < PhaseBins; b++)
        {
            long sum = 0;
            for (int k = -2; k <= 2; k++) sum += bins[(b + k + PhaseBins) % PhaseBins];
            if (sum > peakSum) { peakSum = sum; peak = b; }
        }
        double background = bins.Average();
        double weight = 0, moment = 0;
        for (int k = -_phaseCentroidHalfWidth; k <= _phaseCentroidHalfWidth; k++)
        {
            double w = Math.Max(0, bins[(peak + k + PhaseBins) % PhaseBins] - background);
            weight += w;
            moment += w * k;
        }
        double phase = (peak + 0.5 + (weight > 0 ? moment / weight : 0)) / PhaseBins;
        phase -= Math.Floor(phase);
        _arrivalPhasePulses = phase > 0.5 ? phase - 1 : phase;
        _searching = false;
        UpdateAssignment();
        return true;
    }

    /// <summary>
    /// Positions the marker against the sync tracker as a detector tag would be (x = (t - anchor) / period - bias, the
    /// arrival phase left out until it is known) and resolves it when it can. Done at the first sync at or after the
    /// marker: the tracker is then at most one sync interval away, so the period's error cannot move it by a pulse.
    /// </summary>
    private void PlaceMarker()
    {
        if (!_markerSeen || _markerPulse is not null) return;
        if (!_markerPositioned && _hasSync)
        {
            _markerPositioned = true;
            _markerPosition = _syncIndex * (double)_syncDivider
                              + ((_markerTime - _phaseWhole) - _phaseFraction - _gateCentrePs) / _period - _pathDelayPulses;
        }
        if (_markerPositioned && !_searching)
            _markerPulse = (long)Math.Floor(_markerPosition - _arrivalPhasePulses + 0.5);
    }

    /// <summary>Derives the per-tag parameters from the tracker: x = (t - anchor_d) / period - bias.</summary>
    private void UpdateAssignment()
    {
        PlaceMarker();
        _locked = _syncsInFit >= _syncsToLock;
        _inversePeriod = 1.0 / _period;
        _bias = (_phaseFraction + _gateCentrePs) * _inversePeriod + _pathDelayPulses + _arrivalPhasePulses;
        _halfGatePulses = _gateHalfWidthPs * _inversePeriod;
        _basePulse = _syncIndex * _syncDivider;
        for (int d = 0; d < _anchors.Length; d++)
            _anchors[d] = _phaseWhole + _delays[d];
    }

    /// <summary>
    /// Assigns the tags folded by the arrival phase search, now that the phase is known, exactly as they would have been
    /// had it been known when they came (each against the sync it was placed against), and writes their clicks in pulse
    /// order after the <paramref name="written"/> clicks already in <paramref name="clicks"/> (none while searching).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private int AssignSearchTags(Span<DetectorClick> clicks, int written, ref long assigned, ref long merged, ref long outOfGate, ref long beforeLock)
    {
        int m = 0;
        double halfGate = _halfGatePulses;
        for (int k = 0; k < _searchX.Length; k++)
        {
            double x = _searchX[k] - _arrivalPhasePulses;
            double nearest = Math.Floor(x + 0.5);
            int slot = _searchSlot[k];
            if (Math.Abs(x - nearest) > halfGate)
            {
                _outOfGate[slot]++;
                outOfGate++;
                continue;
            }
            long pulse = _searchBase[k] + (long)nearest;
            if (pulse < 0)
            {
                beforeLock++;
                continue;
            }
            double offset = x - nearest;
            _inGate[slot]++;
            _offsetSum[slot] += offset;
            _offsetSquares[slot] += offset * offset;
            _replayPulses[m] = pulse;
            _replayOrder[m] = k;
            m++;
        }
        // Detector delays differ, so time order is not quite pulse order: sort by pulse (a merged click keeps its earliest time).
        Array.Sort(_replayPulses, _replayOrder, 0, m);
        for (int j = 0; j < m; j++)
        {
            long pulse = _replayPulses[j];
            int k = _replayOrder[j];
            byte bit = (byte)(1 << _searchSlot[k]);
            assigned++;
            if (written > 0 && clicks[written - 1].PulseIndex == pulse)
            {
                ref DetectorClick last = ref clicks[written - 1];
                long time = Math.Min(last.TimePs, _searchTime[k] - _delays[_searchSlot[k]]);
                last = last with { ChannelMask = (byte)(last.ChannelMask | bit), TimePs = time };
                merged++;
                continue;
            }
            clicks[written++] = new DetectorClick(pulse, _searchTime[k] - _delays[_searchSlot[k]], bit, Basis.Z);
        }
        return written;
    }

    /// <summary>
    /// A tag for a pulse before the last click written: merge it into that pulse's click or insert a click in order.
    /// Returns false when the pulse was already handed out in an earlier call (the tag is counted late and dropped).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool InsertEarlier(Span<DetectorClick> clicks, ref int written, long pulse, long time, byte bit, ref long merged)
    {
        int j = written - 1;
        while (j >= 0 && clicks[j].PulseIndex > pulse) j--;
        if (j >= 0 && clicks[j].PulseIndex == pulse)
        {
            clicks[j] = clicks[j] with { ChannelMask = (byte)(clicks[j].ChannelMask | bit) };
            merged++;
            return true;
        }
        if (pulse < _finalPulse)
        {
            _counters.LateTags++;
            return false;
        }
        clicks.Slice(j + 1, written - j - 1).CopyTo(clicks.Slice(j + 2));
        clicks[j + 1] = new DetectorClick(pulse, time, bit, Basis.Z);
        written++;
        return true;
    }

    /// <summary>
    /// Keeps back the clicks a later tag could still join: any tag from now on is at or after the last time seen, so
    /// its pulse is at least that of the last time on the most delayed detector, less the half gate and a margin.
    /// </summary>
    private int HoldBackOpenClicks(Span<DetectorClick> clicks, int written)
    {
        if (!_locked || written == 0) return written;
        double earliest = (_lastTime - _phaseWhole - _maxDelay) * _inversePeriod - _bias - _halfGatePulses;
        long final = _basePulse + (long)Math.Floor(earliest) - 1;
        int open = written;
        while (open > 0 && clicks[open - 1].PulseIndex >= final) open--;
        int hold = written - open;
        if (hold > _held.Length) Array.Resize(ref _held, Math.Max(hold, 2 * _held.Length));
        clicks.Slice(open, hold).CopyTo(_held);
        _heldCount = hold;
        _finalPulse = Math.Max(_finalPulse, final);
        return open;
    }
}
