using System.Buffers.Binary;
using Qkd.Core.TimeTags;

namespace Qkd.Acquisition.Replay;

/// <summary>
/// Imports a PicoQuant PTU recording (PicoHarp 300, HydraHarp v1/v2, TimeHarp 260, MultiHarp; T2 and T3) as an
/// <see cref="ITimeTagSource"/>, so lab data runs through the same acquisition path as a live tagger.
/// <para>
/// T2 records carry a time tag in units of MeasDesc_GlobalResolution; T3 records carry the sync count nsync (sync
/// period = MeasDesc_GlobalResolution) and the delay dtime after that sync (units of MeasDesc_Resolution), so an event
/// is at nsync × period + dtime × resolution. Both counters wrap after a few bits; "overflow" records add whole
/// wrap periods to a 64-bit accumulator, which is how the timestamps are extended without loss. They are time-base
/// extensions, not lost data, so they do not become <see cref="TimeTagKind.OverflowBegin"/> tags. Marker records
/// (external TTL inputs) are skipped and counted. Arithmetic is exact: each resolution is held as a fraction of
/// picoseconds (<see cref="RationalPicoseconds"/>: a 39 MHz sync period is 10^6/39 ps, not a rounded number of
/// femtoseconds) and a time is one 128-bit integer sum over their common denominator, rounded once to picoseconds.
/// </para>
/// <para>
/// T3 records come in sync order but not in time order: dtime can exceed the sync period (a sync divider) and
/// channels of one period are stored as the hardware delivered them. The reader merges them by true time in a
/// <see cref="ReorderWindow"/>: a tag is handed out once a record of a later sync shows that no tag still to come can
/// precede it, so tags come out in non-decreasing time order as <see cref="ITimeTagSource"/> promises. A tag the
/// window cannot place (earlier than one already handed out) is dropped and counted in <see cref="TagsNotPlaced"/>.
/// </para>
/// </summary>
public sealed class PtuReader : ITimeTagSource, IDisposable
{
    private const int RecordBytes = 4;
    private const int BufferRecords = 16384;

    private const uint PicoHarpT2Period = 210_698_240;
    private const uint PicoHarpT3Period = 65_536;
    private const uint HydraHarpV1T2Period = 33_552_000;
    private const uint GenericT2Period = 1 << 25;
    private const uint HydraHarpT3Period = 1024;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly string _file;
    private readonly PtuReaderOptions _options;
    private readonly PtuRecordFormat _format;
    private readonly RationalPicoseconds _unit;
    private readonly RationalPicoseconds _dtimeUnit;
    private readonly ReorderWindow? _window;
    private long _horizonPs = long.MinValue;
    private bool _ended;
    private TimeTagFileFormatException? _failure;
    private readonly byte[] _buffer = new byte[BufferRecords * RecordBytes];
    private int _bufferPosition;
    private int _bufferLength;
    private bool _streamEnded;
    private long _recordsConsumed;
    private long _overflow;
    private long _lastSyncEmitted = -1;
    private TimeTag _pending;
    private bool _hasPending;

    /// <param name="stream">The PTU file, positioned at its start; read sequentially.</param>
    /// <param name="file">The file name for errors and <see cref="Name"/>.</param>
    /// <param name="options">Channel mapping; defaults: sync on 0, detector input k on channel k.</param>
    /// <param name="leaveOpen">Whether <see cref="Dispose"/> leaves <paramref name="stream"/> open.</param>
    /// <exception cref="TimeTagFileFormatException">The header is not a supported PTU header.</exception>
    public PtuReader(Stream stream, string file, PtuReaderOptions? options = null, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(file);
        options ??= new PtuReaderOptions();
        options.Validate();
        _stream = stream;
        _leaveOpen = leaveOpen;
        _file = file;
        _options = options;
        Name = $"replay {Path.GetFileName(file)}";
        try
        {
            Header = PtuHeader.Read(stream, file);
        }
        catch
        {
            if (!leaveOpen) stream.Dispose();
            throw;
        }
        _format = Header.Format;
        try
        {
            _unit = RationalPicoseconds.FromSeconds(Header.GlobalResolutionSeconds);
            _dtimeUnit = Header.IsT3 ? RationalPicoseconds.FromSeconds(Header.ResolutionSeconds!.Value) : default;
        }
        catch (ArgumentOutOfRangeException e)
        {
            if (!leaveOpen) stream.Dispose();
            throw new TimeTagFileFormatException(file, Header.DataOffset, $"the header's resolution is unusable: {e.Message}");
        }
        if (Header.IsT3) _window = new ReorderWindow(options.ReorderWindowTags);
    }

    /// <summary>Opens <paramref name="path"/> and reads its header.</summary>
    public static PtuReader Open(string path, PtuReaderOptions? options = null) =>
        new(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16), path, options);

    public string Name { get; }

    public PtuHeader Header { get; }

    /// <summary>TTTR records decoded (events, syncs, overflows and markers).</summary>
    public long RecordsRead => _recordsConsumed;

    /// <summary>Tags handed out, including T3 sync tags the reader synthesised.</summary>
    public long TagsRead { get; private set; }

    /// <summary>Marker records skipped (one per record, however many marker bits it had set).</summary>
    public long MarkersSkipped { get; private set; }

    /// <summary>Overflow records applied to the time base.</summary>
    public long OverflowRecords { get; private set; }

    /// <summary>T3: tags dropped because a tag later than them had already been handed out (the file is out of time
    /// order by more than the reorder window can mend). Always 0 for T2.</summary>
    public long TagsNotPlaced => _window?.NotPlaced ?? 0;

    /// <summary>T3: most tags that waited in the reorder window at once (how far the file is from time order).</summary>
    public int ReorderBacklogPeak => _window?.Peak ?? 0;

    /// <summary>The sync period (T3) or time-tag unit (T2) as the exact fraction of picoseconds the reader uses.</summary>
    public RationalPicoseconds GlobalResolution => _unit;

    /// <exception cref="TimeTagFileFormatException">The data is truncated (fewer records than the header states, or a
    /// partial record) or a record is impossible for the device. Tags decoded before the problem are returned first;
    /// the next call throws.</exception>
    public int Read(Span<TimeTag> destination, CancellationToken cancellationToken = default)
    {
        int written = _window is null ? ReadInFileOrder(destination, cancellationToken) : ReadMerged(destination, cancellationToken);
        TagsRead += written;
        return written;
    }

    /// <summary>T3: records through the reorder window, tags out in time order.</summary>
    private int ReadMerged(Span<TimeTag> destination, CancellationToken cancellationToken)
    {
        var window = _window!;
        int written = 0;
        while (written < destination.Length)
        {
            window.Release(_horizonPs, destination, ref written);
            if (written == destination.Length) break;
            // Room for one record's tags (a sync and an event); otherwise the earliest goes out early.
            if (window.Count > window.Capacity - 2 && window.ReleaseEarliest(out var early))
            {
                destination[written++] = early;
                continue;
            }
            if (_ended)
            {
                if (window.Count == 0) break;
                _horizonPs = long.MaxValue;
                continue;
            }
            if (Header.NumberOfRecords is long total && _recordsConsumed == total)
            {
                _ended = true;
                continue;
            }
            if (_bufferLength - _bufferPosition < RecordBytes)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!Refill())
                {
                    _ended = true;
                    _failure = Truncation();
                    continue;
                }
            }
            uint record = BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(_bufferPosition));
            string? problem = Decode(record, destination, ref written);
            if (problem is not null)
            {
                _ended = true;
                _failure = new TimeTagFileFormatException(_file, RecordOffset(_recordsConsumed), $"record {_recordsConsumed} (0x{record:X8}): {problem}");
                continue;
            }
            _bufferPosition += RecordBytes;
            _recordsConsumed++;
        }
        // Tags decoded before a problem go out first; the call after them throws.
        if (written == 0 && _failure is not null) throw _failure;
        return written;
    }

    /// <summary>T2: tags in file order (the hardware writes them in time order).</summary>
    private int ReadInFileOrder(Span<TimeTag> destination, CancellationToken cancellationToken)
    {
        int written = 0;
        if (_hasPending && destination.Length > 0)
        {
            destination[written++] = _pending;
            _hasPending = false;
        }
        while (written < destination.Length && !_hasPending)
        {
            if (Header.NumberOfRecords is long total && _recordsConsumed == total) break;
            if (_bufferLength - _bufferPosition < RecordBytes)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!Refill())
                {
                    if (written > 0) break;
                    ThrowIfTruncated();
                    break;
                }
            }
            uint record = BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(_bufferPosition));
            string? problem = Decode(record, destination, ref written);
            if (problem is not null)
            {
                if (written > 0) break;
                throw new TimeTagFileFormatException(_file, RecordOffset(_recordsConsumed), $"record {_recordsConsumed} (0x{record:X8}): {problem}");
            }
            _bufferPosition += RecordBytes;
            _recordsConsumed++;
        }
        return written;
    }

    public void Dispose()
    {
        if (!_leaveOpen) _stream.Dispose();
    }

    /// <summary>Decodes one record; returns a description of the problem instead of throwing so the caller can first
    /// hand out the tags already decoded.</summary>
    private string? Decode(uint record, Span<TimeTag> destination, ref int written)
    {
        switch (_format)
        {
            case PtuRecordFormat.PicoHarpT2:
            {
                uint channel = record >> 28, time = record & 0x0FFF_FFFF;
                if (channel == 15)
                {
                    if ((time & 0xF) == 0) Overflow(PicoHarpT2Period);
                    else MarkersSkipped++;
                }
                else if (channel == 0) Emit(T2Tag(time, _options.SyncChannel), destination, ref written);
                else if (channel <= 4) Emit(T2Tag(time, Detector(channel)), destination, ref written);
                else return $"channel {channel} does not exist on a PicoHarp 300 (0 = sync, 1-4 = router inputs, 15 = special)";
                return null;
            }
            case PtuRecordFormat.PicoHarpT3:
            {
                uint channel = record >> 28, dtime = (record >> 16) & 0xFFF, nsync = record & 0xFFFF;
                if (channel == 15)
                {
                    if (dtime == 0) Overflow(PicoHarpT3Period);
                    else SyncSeen(_overflow + nsync, markers: true);
                }
                else if (channel is >= 1 and <= 4) EmitT3(nsync, dtime, Detector(channel));
                else return $"channel {channel} does not exist in PicoHarp 300 T3 records (1-4 = router inputs, 15 = special)";
                return null;
            }
            case PtuRecordFormat.HydraHarpV1T2:
            case PtuRecordFormat.GenericT2:
            {
                bool special = (record >> 31) != 0;
                uint channel = (record >> 25) & 0x3F, time = record & 0x01FF_FFFF;
                if (!special) Emit(T2Tag(time, Detector(channel + 1)), destination, ref written);
                else if (channel == 0x3F)
                {
                    if (_format == PtuRecordFormat.HydraHarpV1T2) Overflow(HydraHarpV1T2Period);
                    // Older firmware wrote 0 for a single overflow.
                    else Overflow(GenericT2Period * (long)Math.Max(time, 1u));
                }
                else if (channel == 0) Emit(T2Tag(time, _options.SyncChannel), destination, ref written);
                else if (channel <= 15) MarkersSkipped++;
                else return $"special channel code {channel} is undefined (0 = sync, 1-15 = markers, 63 = overflow)";
                return null;
            }
            case PtuRecordFormat.HydraHarpV1T3:
            case PtuRecordFormat.GenericT3:
            {
                bool special = (record >> 31) != 0;
                uint channel = (record >> 25) & 0x3F, dtime = (record >> 10) & 0x7FFF, nsync = record & 0x3FF;
                if (!special) EmitT3(nsync, dtime, Detector(channel + 1));
                else if (channel == 0x3F)
                {
                    if (_format == PtuRecordFormat.HydraHarpV1T3) Overflow(HydraHarpT3Period);
                    else Overflow(HydraHarpT3Period * (long)Math.Max(nsync, 1u));
                }
                else if (channel is >= 1 and <= 15) SyncSeen(_overflow + nsync, markers: true);
                else return $"special channel code {channel} is undefined in T3 (1-15 = markers, 63 = overflow)";
                return null;
            }
            default:
                throw new InvalidOperationException($"Unhandled record format {_format}.");
        }
    }

    private void Overflow(long units)
    {
        _overflow += units;
        OverflowRecords++;
        // T3: every later record is at or after the first sync of the new wrap.
        if (_window is not null) SyncSeen(_overflow, markers: false);
    }

    /// <summary>
    /// T3: a record of sync <paramref name="sync"/> was read. Records come in sync order and every event is at or after
    /// its sync, so no tag still to come precedes that sync's time: the window may release up to it.
    /// </summary>
    private void SyncSeen(long sync, bool markers)
    {
        if (markers) MarkersSkipped++;
        long time = _unit.Times(sync);
        if (time > _horizonPs) _horizonPs = time;
    }

    private ushort Detector(uint input) => (ushort)(_options.FirstDetectorChannel + input - 1);

    private TimeTag T2Tag(uint time, ushort channel) => new(_unit.Times(_overflow + time), channel);

    /// <summary>T3 event: its sync tag (once per sync period with events) and the event go into the reorder window.</summary>
    private void EmitT3(uint nsync, uint dtime, ushort channel)
    {
        long sync = _overflow + nsync;
        SyncSeen(sync, markers: false);
        if (_options.EmitSyncTagsInT3 && sync > _lastSyncEmitted)
        {
            _window!.Add(new TimeTag(_unit.Times(sync), _options.SyncChannel));
            _lastSyncEmitted = sync;
        }
        _window!.Add(new TimeTag(_unit.Plus(sync, _dtimeUnit, dtime), channel));
    }

    /// <summary>Writes the tag, or parks it for the next call when the caller's span is full (a T3 record can yield two).</summary>
    private void Emit(TimeTag tag, Span<TimeTag> destination, ref int written)
    {
        if (written < destination.Length) destination[written++] = tag;
        else
        {
            _pending = tag;
            _hasPending = true;
        }
    }

    private long RecordOffset(long record) => Header.DataOffset + record * RecordBytes;

    private bool Refill()
    {
        int left = _bufferLength - _bufferPosition;
        Buffer.BlockCopy(_buffer, _bufferPosition, _buffer, 0, left);
        _bufferPosition = 0;
        _bufferLength = left;
        if (_streamEnded) return false;
        while (_bufferLength < RecordBytes)
        {
            int n = _stream.Read(_buffer, _bufferLength, _buffer.Length - _bufferLength);
            if (n == 0)
            {
                _streamEnded = true;
                return false;
            }
            _bufferLength += n;
        }
        return true;
    }

    private void ThrowIfTruncated()
    {
        if (Truncation() is { } problem) throw problem;
    }

    /// <summary>The truncation the data ends with, or null when it ends cleanly.</summary>
    private TimeTagFileFormatException? Truncation()
    {
        int partial = _bufferLength - _bufferPosition;
        if (Header.NumberOfRecords is long total && _recordsConsumed < total)
            return new TimeTagFileFormatException(_file, RecordOffset(_recordsConsumed) + partial,
                $"the file ends after {_recordsConsumed} of the {total} records its header announces: it is truncated.");
        if (partial > 0)
            return new TimeTagFileFormatException(_file, RecordOffset(_recordsConsumed),
                $"the file ends with a partial {partial}-byte record: it is truncated.");
        return null;
    }
}
