using System.Buffers.Binary;
using Qkd.Core.TimeTags;

namespace Qkd.Acquisition.Replay;

/// <summary>
/// Replays a QKD time-tag file (firmware-protocols/time-tag-file.md) as an <see cref="ITimeTagSource"/>. A damaged
/// header is an error (<see cref="TimeTagFileFormatException"/>); a damaged chunk is never replayed: it is counted in
/// <see cref="CorruptChunks"/> and the reader resynchronises on the next intact chunk header. Reads the stream
/// sequentially through one reused buffer and decodes each chunk into one reused tag array, so nothing is allocated
/// per tag. Not thread-safe: one consumer (the acquisition thread) reads it.
/// </summary>
public sealed class TimeTagFileReader : ITimeTagSource, IDisposable
{
    private const int InitialBufferBytes = 1 << 16;
    private const int MaxPayloadBytes = TimeTagFileLayout.MaxRecordsPerChunk * TimeTagFileLayout.MaxRecordBytes;

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

    /// <param name="stream">The recording; read sequentially, never seeked.</param>
    /// <param name="file">The file name for errors and <see cref="Name"/>.</param>
    /// <param name="leaveOpen">Whether <see cref="Dispose"/> leaves <paramref name="stream"/> open.</param>
    /// <exception cref="TimeTagFileFormatException">The header is missing, damaged or of an unknown major version.</exception>
    public TimeTagFileReader(Stream stream, string file, bool leaveOpen = false)
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
    public static TimeTagFileReader Open(string path) =>
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
                if (left > 0) Reject(ref resynchronising, genuineChunk: false, left);
                _finished = true;
                return false;
            }
            ReadOnlySpan<byte> at = _buffer.AsSpan(_position, _length - _position);
            uint magic = BinaryPrimitives.ReadUInt32LittleEndian(at);
            if (magic == TimeTagFileLayout.ChunkMagic)
            {
                if (!Ensure(TimeTagFileLayout.ChunkHeaderBytes))
                {
                    Reject(ref resynchronising, genuineChunk: false, _length - _position);
                    continue;
                }
                at = _buffer.AsSpan(_position, _length - _position);
                if (BinaryPrimitives.ReadUInt32LittleEndian(at[20..]) != Crc32C.Compute(at[..20]))
                {
                    Reject(ref resynchronising, genuineChunk: false, 1);
                    continue;
                }
                uint count = BinaryPrimitives.ReadUInt32LittleEndian(at[4..]);
                uint payloadBytes = BinaryPrimitives.ReadUInt32LittleEndian(at[8..]);
                long baseTicks = BinaryPrimitives.ReadInt64LittleEndian(at[12..]);
                if (count == 0 || count > TimeTagFileLayout.MaxRecordsPerChunk
                    || payloadBytes < count * (ulong)TimeTagFileLayout.MinRecordBytes || payloadBytes > MaxPayloadBytes)
                {
                    Reject(ref resynchronising, genuineChunk: true, 1);
                    continue;
                }
                int total = TimeTagFileLayout.ChunkHeaderBytes + (int)payloadBytes + TimeTagFileLayout.ChunkCrcBytes;
                if (!Ensure(total))
                {
                    // An intact chunk header whose payload the file does not hold: a recording cut off mid-write.
                    Reject(ref resynchronising, genuineChunk: true, _length - _position);
                    continue;
                }
                ReadOnlySpan<byte> payload = _buffer.AsSpan(_position + TimeTagFileLayout.ChunkHeaderBytes, (int)payloadBytes);
                uint storedCrc = BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(_position + total - TimeTagFileLayout.ChunkCrcBytes));
                if (storedCrc != Crc32C.Compute(payload))
                {
                    Reject(ref resynchronising, genuineChunk: true, 1);
                    continue;
                }
                if (_chunkTags.Length < count) _chunkTags = new TimeTag[Math.Max((int)count, _chunkTags.Length * 2)];
                if (!TimeTagRecordCodec.DecodeChunk(payload, baseTicks, Header.ResolutionPs, _chunkTags.AsSpan(0, (int)count)))
                {
                    Reject(ref resynchronising, genuineChunk: true, 1);
                    continue;
                }
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
                    _position += TimeTagFileLayout.TrailerBytes;
                    _finished = true;
                    return false;
                }
            }
            Reject(ref resynchronising, genuineChunk: false, 1);
        }
    }

    /// <summary>Counts the damage (once per damaged region) and skips ahead to the next byte that could start a magic.</summary>
    private void Reject(ref bool resynchronising, bool genuineChunk, int skip)
    {
        if (!resynchronising || genuineChunk) CorruptChunks++;
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
}
