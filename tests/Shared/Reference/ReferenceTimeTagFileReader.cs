using System.Buffers.Binary;
using Qkd.Core.TimeTags;

using Qkd.Acquisition.Replay;

namespace Qkd.Reference;

/// <summary>
/// Qkd.Acquisition.Replay.TimeTagFileReader (with its record decoder, ReferenceDecodeChunk) as it was before
/// the chunk path was rewritten for speed (commit 4a03db0), kept as the reference of the property tests and the
/// benchmarks' baseline; not product code.
/// Replays a QKD time-tag file (firmware-protocols/time-tag-file.md) as an <see cref="ITimeTagSource"/>. A damaged
/// header is an error (<see cref="TimeTagFileFormatException"/>); a damaged chunk is never replayed: it is counted in
/// <see cref="CorruptChunks"/> and the reader resynchronises on the next intact chunk header. Every damaged stretch
/// (corrupt chunks, chunks missing, a missing trailer) is recorded with its place, its tags and its time in
/// <see cref="Integrity"/>, so a replay can say what it lost instead of passing a cut file off as whole. Reads the
/// stream sequentially through one reused buffer and decodes each chunk into one reused tag array, so nothing is
/// allocated per tag. Not thread-safe: one consumer (the acquisition thread) reads it.
/// </summary>
public sealed class ReferenceTimeTagFileReader : ITimeTagSource, IDisposable
{
    private const int InitialBufferBytes = 1 << 16;
    private const int MaxPayloadBytes = TimeTagFileLayout.MaxRecordsPerChunk * TimeTagFileLayout.MaxRecordBytes;

    /// <summary>
    /// A jump in time at a chunk boundary longer than this many mean tag intervals is tags missing, not physics: a
    /// Poisson stream has such a gap with probability e^-256, a periodic sync bounds natural gaps to its period, and a
    /// chunk cut out of the file (8192 tags by default) leaves a gap of thousands of intervals.
    /// </summary>
    public const int GapFactor = 256;

    /// <summary>Tags needed before the mean interval is trusted for <see cref="GapFactor"/>.</summary>
    private const int TagsBeforeGapCheck = 64;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly string _file;
    private byte[] _buffer = new byte[InitialBufferBytes];
    private int _position;
    private int _length;
    private bool _streamEnded;
    private bool _finished;
    private TimeTag[] _chunkTags = new TimeTag[1024];
    private int _chunkCount;
    private int _chunkNext;

    // Integrity: absolute offsets, the intact tags' time span, and the damaged stretches found so far.
    private long _bytesDiscarded;
    private long _tagsDecoded;
    private long _firstPs;
    private long _lastPs;
    private bool _inOverflow;
    private long? _trailerChunkCount;
    private readonly List<TimeTagFileDamage> _damage = [];
    private OpenDamage? _open;

    /// <summary>A corrupt stretch still being scanned: it closes at the next intact chunk (or the end of the file).</summary>
    private sealed class OpenDamage(long offset, long? fromPs, string detail)
    {
        public long Offset { get; } = offset;
        public long? FromPs { get; } = fromPs;
        public int Chunks { get; set; }
        public long Tags { get; set; }
        public bool TagsUnknown { get; set; }
        public string Detail { get; set; } = detail;
    }

    /// <param name="stream">The recording; read sequentially, never seeked.</param>
    /// <param name="file">The file name for errors and <see cref="Name"/>.</param>
    /// <param name="leaveOpen">Whether <see cref="Dispose"/> leaves <paramref name="stream"/> open.</param>
    /// <exception cref="TimeTagFileFormatException">The header is missing, damaged or of an unknown major version.</exception>
    public ReferenceTimeTagFileReader(Stream stream, string file, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(file);
        if (!stream.CanRead) throw new ArgumentException("The stream is not readable.", nameof(stream));
        _stream = stream;
        _leaveOpen = leaveOpen;
        _file = file;
        Name = $"replay {Path.GetFileName(file)}";
        try
        {
            Ensure(16);
            int headerLength = TimeTagFileHeaderCodec.ReadHeaderLength(_buffer.AsSpan(0, _length), file);
            if (!Ensure(headerLength))
                throw new TimeTagFileFormatException(file, _length, $"the file ends inside the header ({_length} of {headerLength} bytes).");
            Header = TimeTagFileHeaderCodec.Parse(_buffer.AsSpan(0, headerLength), file);
            _position = headerLength;
        }
        catch
        {
            if (!leaveOpen) stream.Dispose();
            throw;
        }
    }

    /// <summary>Opens <paramref name="path"/> and reads its header.</summary>
    public static ReferenceTimeTagFileReader Open(string path) =>
        new(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16), path);

    public string Name { get; }

    public TimeTagFileHeader Header { get; }

    /// <summary>Tags handed out by <see cref="Read"/>.</summary>
    public long TagsRead { get; private set; }

    /// <summary>Intact chunks decoded.</summary>
    public long ChunksRead { get; private set; }

    /// <summary>
    /// Damaged chunks skipped: a bad chunk or payload CRC, a malformed payload, a chunk cut off by the end of the file,
    /// or bytes where a chunk should start but none does (a damaged region with no recognisable chunk header counts
    /// once). Their tags are never replayed.
    /// </summary>
    public long CorruptChunks { get; private set; }

    /// <summary>Bytes passed over while resynchronising after damage.</summary>
    public long BytesSkipped { get; private set; }

    /// <summary>Whether the trailer was found, i.e. the recording was closed cleanly and nothing is missing at the end.</summary>
    public bool TrailerSeen { get; private set; }

    /// <summary>The tag count the writer recorded in the trailer, once it has been read; compare with <see cref="TagsRead"/>.</summary>
    public long? TrailerTagCount { get; private set; }

    /// <summary>Whether the reader has reached the trailer or the end of the file.</summary>
    public bool ReadToEnd => _finished;

    /// <summary>
    /// What was found so far about the file's completeness: the damaged stretches, the tags and the time they cover.
    /// Complete once <see cref="Read"/> has returned 0 (<see cref="TimeTagFileIntegrity.ReadToEnd"/>).
    /// </summary>
    public TimeTagFileIntegrity Integrity
    {
        get
        {
            var damage = new List<TimeTagFileDamage>(_damage);
            if (_open is { } open) damage.Add(Close(open, null));
            bool any = _tagsDecoded > 0;
            return new TimeTagFileIntegrity(_finished, TrailerSeen, _tagsDecoded, ChunksRead, CorruptChunks, BytesSkipped,
                TrailerTagCount, _trailerChunkCount, any ? _firstPs : null, any ? _lastPs : null, damage);
        }
    }

    /// <summary>
    /// Reads the whole of <paramref name="path"/> (every chunk checked and decoded, no tag kept) and returns what it
    /// found: how a caller checks a recording before replaying it.
    /// </summary>
    /// <exception cref="TimeTagFileFormatException">The header is missing or damaged.</exception>
    public static TimeTagFileIntegrity Check(string path, CancellationToken cancellationToken = default)
    {
        using var reader = Open(path);
        while (reader._finished is false)
        {
            cancellationToken.ThrowIfCancellationRequested();
            reader._chunkNext = reader._chunkCount;
            if (!reader.LoadNextChunk()) break;
        }
        return reader.Integrity;
    }

    public int Read(Span<TimeTag> destination, CancellationToken cancellationToken = default)
    {
        int written = 0;
        while (written < destination.Length)
        {
            if (_chunkNext == _chunkCount)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (_finished || !LoadNextChunk()) break;
            }
            int take = Math.Min(destination.Length - written, _chunkCount - _chunkNext);
            _chunkTags.AsSpan(_chunkNext, take).CopyTo(destination[written..]);
            _chunkNext += take;
            written += take;
        }
        TagsRead += written;
        return written;
    }

    public void Dispose()
    {
        if (!_leaveOpen) _stream.Dispose();
    }

    /// <summary>
    /// Finds, verifies and decodes the next chunk into <see cref="_chunkTags"/>; false at the trailer or the end of
    /// the stream. Every failed check counts one corrupt chunk unless we are already scanning through a damaged
    /// region (then only a candidate whose header CRC is intact, i.e. a real chunk with a damaged payload, counts).
    /// </summary>
    private bool LoadNextChunk()
    {
        bool resynchronising = false;
        while (true)
        {
            if (!Ensure(4))
            {
                int left = _length - _position;
                if (left > 0) Reject(ref resynchronising, genuineChunk: false, left, "bytes after the last chunk that are not a chunk");
                Finish();
                return false;
            }
            ReadOnlySpan<byte> at = _buffer.AsSpan(_position, _length - _position);
            uint magic = BinaryPrimitives.ReadUInt32LittleEndian(at);
            if (magic == TimeTagFileLayout.ChunkMagic)
            {
                if (!Ensure(TimeTagFileLayout.ChunkHeaderBytes))
                {
                    Reject(ref resynchronising, genuineChunk: false, _length - _position, "a chunk header cut off by the end of the file");
                    continue;
                }
                at = _buffer.AsSpan(_position, _length - _position);
                if (BinaryPrimitives.ReadUInt32LittleEndian(at[20..]) != Crc32C.Compute(at[..20]))
                {
                    Reject(ref resynchronising, genuineChunk: false, 1, "chunk header CRC mismatch");
                    continue;
                }
                uint count = BinaryPrimitives.ReadUInt32LittleEndian(at[4..]);
                uint payloadBytes = BinaryPrimitives.ReadUInt32LittleEndian(at[8..]);
                long baseTicks = BinaryPrimitives.ReadInt64LittleEndian(at[12..]);
                if (count == 0 || count > TimeTagFileLayout.MaxRecordsPerChunk
                    || payloadBytes < count * (ulong)TimeTagFileLayout.MinRecordBytes || payloadBytes > MaxPayloadBytes)
                {
                    Reject(ref resynchronising, genuineChunk: true, 1, "record count or payload length out of range");
                    continue;
                }
                int total = TimeTagFileLayout.ChunkHeaderBytes + (int)payloadBytes + TimeTagFileLayout.ChunkCrcBytes;
                if (!Ensure(total))
                {
                    // An intact chunk header whose payload the file does not hold: a recording cut off mid-write.
                    Reject(ref resynchronising, genuineChunk: true, _length - _position, "a chunk cut off by the end of the file", count);
                    continue;
                }
                ReadOnlySpan<byte> payload = _buffer.AsSpan(_position + TimeTagFileLayout.ChunkHeaderBytes, (int)payloadBytes);
                uint storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(_position + total - TimeTagFileLayout.ChunkCrcBytes));
                if (storedCrc != Crc32C.Compute(payload))
                {
                    Reject(ref resynchronising, genuineChunk: true, 1, "payload CRC mismatch", count);
                    continue;
                }
                if (_chunkTags.Length < count) _chunkTags = new TimeTag[Math.Max((int)count, _chunkTags.Length * 2)];
                if (!ReferenceDecodeChunk(payload, baseTicks, Header.ResolutionPs, _chunkTags.AsSpan(0, (int)count)))
                {
                    Reject(ref resynchronising, genuineChunk: true, 1, "records that do not decode", count);
                    continue;
                }
                Accept(_chunkTags.AsSpan(0, (int)count));
                _position += total;
                _chunkCount = (int)count;
                _chunkNext = 0;
                ChunksRead++;
                return true;
            }
            if (magic == TimeTagFileLayout.TrailerMagic && Ensure(TimeTagFileLayout.TrailerBytes))
            {
                at = _buffer.AsSpan(_position, TimeTagFileLayout.TrailerBytes);
                if (BinaryPrimitives.ReadUInt32LittleEndian(at[16..]) == Crc32C.Compute(at[..16]))
                {
                    TrailerSeen = true;
                    TrailerTagCount = BinaryPrimitives.ReadInt64LittleEndian(at[4..]);
                    _trailerChunkCount = BinaryPrimitives.ReadUInt32LittleEndian(at[12..]);
                    long trailerOffset = _bytesDiscarded + _position;
                    _position += TimeTagFileLayout.TrailerBytes;
                    Finish(trailerOffset);
                    return false;
                }
            }
            Reject(ref resynchronising, genuineChunk: false, 1, "bytes where a chunk should start");
        }
    }

    /// <summary>
    /// Checks an intact chunk's place in time before its tags are handed out: it closes a corrupt stretch (whose end
    /// is this chunk's first tag), or, right after another intact chunk, a jump of more than <see cref="GapFactor"/>
    /// mean tag intervals is a chunk missing from the file. A gap the tagger itself announced (after an overflow-begin
    /// tag) is the tagger's, counted by it, not the file's. Then extends the intact tags' time span.
    /// </summary>
    private void Accept(ReadOnlySpan<TimeTag> tags)
    {
        long first = tags[0].TimePs;
        if (_open is { } open)
        {
            _damage.Add(Close(open, first));
            _open = null;
        }
        else if (_tagsDecoded >= TagsBeforeGapCheck && !_inOverflow)
        {
            long gap = first - _lastPs;
            double meanInterval = (double)(_lastPs - _firstPs) / (_tagsDecoded - 1);
            if (gap > 0 && gap > GapFactor * Math.Max(1.0, meanInterval))
                _damage.Add(new TimeTagFileDamage(TimeTagFileDamageKind.MissingChunks, _bytesDiscarded + _position, null, null, _lastPs, first,
                    string.Create(System.Globalization.CultureInfo.InvariantCulture,
                        $"a jump of {gap / Math.Max(1.0, meanInterval):F0} mean tag intervals between two intact chunks: about that many tags are missing")));
        }
        if (_tagsDecoded == 0) _firstPs = _lastPs = first;
        foreach (ref readonly TimeTag tag in tags)
        {
            long t = tag.TimePs;
            if (t > _lastPs) _lastPs = t;
            else if (t < _firstPs) _firstPs = t;
            if (tag.Kind == TimeTagKind.OverflowBegin) _inOverflow = true;
            else if (tag.Kind == TimeTagKind.OverflowEnd) _inOverflow = false;
        }
        _tagsDecoded += tags.Length;
    }

    private TimeTagFileDamage Close(OpenDamage open, long? toPs) =>
        new(TimeTagFileDamageKind.CorruptChunks, open.Offset, open.Chunks, open.TagsUnknown ? null : open.Tags, open.FromPs, toPs, open.Detail);

    /// <summary>
    /// The end of the file (or its trailer at <paramref name="trailerOffset"/>): a corrupt stretch still open runs to
    /// the end; no trailer is a truncation; a trailer whose counts the intact chunks do not add up to, with no damage
    /// to explain it, means chunks cut out of the file.
    /// </summary>
    private void Finish(long? trailerOffset = null)
    {
        _finished = true;
        if (_open is { } open)
        {
            _damage.Add(Close(open, null));
            _open = null;
        }
        long? last = _tagsDecoded > 0 ? _lastPs : null;
        if (trailerOffset is not long offset)
        {
            _damage.Add(new TimeTagFileDamage(TimeTagFileDamageKind.Truncated, _bytesDiscarded + _length, null, null, last, null,
                string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"the recording was cut off after {ChunksRead:N0} intact chunks and {_tagsDecoded:N0} tags")));
            return;
        }
        if (TrailerTagCount is long written && written != _tagsDecoded && _damage.Count == 0)
            _damage.Add(new TimeTagFileDamage(TimeTagFileDamageKind.MissingChunks, offset,
                _trailerChunkCount is long chunks ? (int)Math.Max(0, chunks - ChunksRead) : null, Math.Abs(written - _tagsDecoded), null, null,
                string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"the trailer counts {written:N0} tags in {_trailerChunkCount:N0} chunks; the file holds {_tagsDecoded:N0} in {ChunksRead:N0}")));
    }

    /// <summary>Counts the damage (once per damaged region), records where it is and what it held, and skips ahead to
    /// the next byte that could start a magic.</summary>
    /// <param name="records">The record count of a chunk whose header is intact; null when the damaged bytes state none.</param>
    private void Reject(ref bool resynchronising, bool genuineChunk, int skip, string detail, uint? records = null)
    {
        if (!resynchronising || genuineChunk)
        {
            CorruptChunks++;
            if (_open is null) _open = new OpenDamage(_bytesDiscarded + _position, _tagsDecoded > 0 ? _lastPs : null, detail);
            else if (!_open.Detail.Contains(detail, StringComparison.Ordinal)) _open.Detail += "; " + detail;
            _open.Chunks++;
            if (records is uint n) _open.Tags += n;
            else _open.TagsUnknown = true;
        }
        resynchronising = true;
        _position += skip;
        BytesSkipped += skip;
        // Both magics begin with 'T' (0x54): jump straight to the next candidate instead of testing every byte.
        while (true)
        {
            int next = _buffer.AsSpan(_position, _length - _position).IndexOf((byte)0x54);
            if (next >= 0)
            {
                _position += next;
                BytesSkipped += next;
                return;
            }
            BytesSkipped += _length - _position;
            _position = _length;
            if (!Ensure(1)) return;
        }
    }

    /// <summary>Makes at least <paramref name="count"/> bytes available from <see cref="_position"/>; false if the
    /// stream ends first (whatever it had is then buffered).</summary>
    private bool Ensure(int count)
    {
        if (_length - _position >= count) return true;
        if (_streamEnded) return false;
        if (_position > 0)
        {
            _bytesDiscarded += _position;
            Buffer.BlockCopy(_buffer, _position, _buffer, 0, _length - _position);
            _length -= _position;
            _position = 0;
        }
        if (count > _buffer.Length) Array.Resize(ref _buffer, Math.Max(count, _buffer.Length * 2));
        while (_length < count)
        {
            int n = _stream.Read(_buffer, _length, _buffer.Length - _length);
            if (n == 0)
            {
                _streamEnded = true;
                return false;
            }
            _length += n;
        }
        return true;
    }

    /// <summary>The former TimeTagRecordCodec.DecodeChunk, byte by byte.</summary>
    internal static bool ReferenceDecodeChunk(ReadOnlySpan<byte> payload, long baseTicks, uint resolutionPs, Span<TimeTag> destination)
    {
        int position = 0;
        long ticks = baseTicks;
        for (int i = 0; i < destination.Length; i++)
        {
            if (position >= payload.Length) return false;
            int lead = payload[position++];
            int channel = lead >> 3;
            if (channel == TimeTagFileLayout.EscapedChannel)
            {
                if (!TryReadVarint(payload, ref position, out ulong wide) || wide > ushort.MaxValue) return false;
                channel = (int)wide;
            }
            if (!TryReadVarint(payload, ref position, out ulong zigzag)) return false;
            long delta = (long)(zigzag >> 1) ^ -(long)(zigzag & 1);
            ticks = unchecked(ticks + delta);
            uint missed = 0;
            if ((lead & TimeTagFileLayout.MissedEventsFlag) != 0)
            {
                if (!TryReadVarint(payload, ref position, out ulong m) || m > uint.MaxValue) return false;
                missed = (uint)m;
            }
            destination[i] = new TimeTag(unchecked(ticks * resolutionPs), (ushort)channel, (TimeTagKind)(lead & TimeTagFileLayout.KindMask), missed);
        }
        return position == payload.Length;
    }

    /// <summary>Reads a LEB128 varint of at most 10 bytes whose value fits 64 bits.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static bool TryReadVarint(ReadOnlySpan<byte> payload, ref int position, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            if (position >= payload.Length) return false;
            byte b = payload[position++];
            if (shift == 63 && b > 1) return false;
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return true;
        }
        return false;
    }
}
