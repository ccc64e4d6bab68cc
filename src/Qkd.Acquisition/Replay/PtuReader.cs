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
/// (external TTL inputs) are skipped and counted. Arithmetic is exact: resolutions are held in femtoseconds and
/// products in 128 bits, then rounded once to picoseconds.
/// </para>
/// Tags come out in file order (T3 events of one sync period are as the hardware stored them).
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
    private readonly long _unitFs;
    private readonly long _dtimeFs;
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
        _unitFs = ToFemtoseconds(Header.GlobalResolutionSeconds);
        _dtimeFs = Header.IsT3 ? ToFemtoseconds(Header.ResolutionSeconds!.Value) : 0;
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

    /// <exception cref="TimeTagFileFormatException">The data is truncated (fewer records than the header states, or a
    /// partial record) or a record is impossible for the device. Tags decoded before the problem are returned first;
    /// the next call throws.</exception>
    public int Read(Span<TimeTag> destination, CancellationToken cancellationToken = default)
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
        TagsRead += written;
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
                    else MarkersSkipped++;
                }
                else if (channel is >= 1 and <= 4) EmitT3(nsync, dtime, Detector(channel), destination, ref written);
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
                if (!special) EmitT3(nsync, dtime, Detector(channel + 1), destination, ref written);
                else if (channel == 0x3F)
                {
                    if (_format == PtuRecordFormat.HydraHarpV1T3) Overflow(HydraHarpT3Period);
                    else Overflow(HydraHarpT3Period * (long)Math.Max(nsync, 1u));
                }
                else if (channel is >= 1 and <= 15) MarkersSkipped++;
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
    }

    private ushort Detector(uint input) => (ushort)(_options.FirstDetectorChannel + input - 1);

    private TimeTag T2Tag(uint time, ushort channel) => new(Picoseconds((Int128)(_overflow + time) * _unitFs), channel);

    private void EmitT3(uint nsync, uint dtime, ushort channel, Span<TimeTag> destination, ref int written)
    {
        long sync = _overflow + nsync;
        Int128 syncFs = (Int128)sync * _unitFs;
        if (_options.EmitSyncTagsInT3 && sync != _lastSyncEmitted)
        {
            Emit(new TimeTag(Picoseconds(syncFs), _options.SyncChannel), destination, ref written);
            _lastSyncEmitted = sync;
        }
        Emit(new TimeTag(Picoseconds(syncFs + (Int128)dtime * _dtimeFs), channel), destination, ref written);
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

    /// <summary>Femtoseconds to picoseconds, rounding half up.</summary>
    private static long Picoseconds(Int128 femtoseconds) => (long)((femtoseconds + 500) / 1000);

    private static long ToFemtoseconds(double seconds) => checked((long)Math.Round(seconds * 1e15));

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
        int partial = _bufferLength - _bufferPosition;
        if (Header.NumberOfRecords is long total && _recordsConsumed < total)
            throw new TimeTagFileFormatException(_file, RecordOffset(_recordsConsumed) + partial,
                $"the file ends after {_recordsConsumed} of the {total} records its header announces: it is truncated.");
        if (partial > 0)
            throw new TimeTagFileFormatException(_file, RecordOffset(_recordsConsumed),
                $"the file ends with a partial {partial}-byte record: it is truncated.");
    }
}
