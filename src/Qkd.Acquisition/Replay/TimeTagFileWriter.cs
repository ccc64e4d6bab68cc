using System.Buffers.Binary;
using Qkd.Core.TimeTags;

namespace Qkd.Acquisition.Replay;

/// <summary>
/// Records a time-tag stream in the QKD time-tag file format (firmware-protocols/time-tag-file.md): the header at
/// construction, then chunks of delta-encoded records each protected by CRC-32C, then on <see cref="Dispose"/> a
/// trailer that tells a reader the recording ended cleanly. Encoding works in one reused buffer; nothing is allocated
/// per tag.
/// </summary>
public sealed class TimeTagFileWriter : IDisposable
{
    public const int DefaultTagsPerChunk = 8192;

    private readonly Stream _stream;
    private readonly bool _leaveOpen;
    private readonly uint _resolutionPs;
    private readonly int _tagsPerChunk;
    private readonly byte[] _chunk;
    private int _payloadBytes;
    private int _recordsInChunk;
    private long _baseTicks;
    private long _previousTicks;
    private bool _disposed;

    /// <param name="stream">Where to write; must be writable. Written sequentially, never seeked.</param>
    /// <param name="header">Resolution, channels, creation time and metadata of the recording.</param>
    /// <param name="tagsPerChunk">Records per chunk: larger chunks cost less overhead, smaller ones lose less to a
    /// damaged byte. 1 to 2^20.</param>
    /// <param name="leaveOpen">Whether <see cref="Dispose"/> leaves <paramref name="stream"/> open.</param>
    public TimeTagFileWriter(Stream stream, TimeTagFileHeader header, int tagsPerChunk = DefaultTagsPerChunk, bool leaveOpen = false)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(header);
        if (!stream.CanWrite) throw new ArgumentException("The stream is not writable.", nameof(stream));
        ArgumentOutOfRangeException.ThrowIfLessThan(tagsPerChunk, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(tagsPerChunk, TimeTagFileLayout.MaxRecordsPerChunk);
        _stream = stream;
        _leaveOpen = leaveOpen;
        _resolutionPs = header.ResolutionPs;
        _tagsPerChunk = tagsPerChunk;
        Header = header;
        _chunk = new byte[TimeTagFileLayout.ChunkHeaderBytes + tagsPerChunk * TimeTagFileLayout.MaxRecordBytes + TimeTagFileLayout.ChunkCrcBytes];
        _stream.Write(TimeTagFileHeaderCodec.Serialize(header));
    }

    /// <summary>Creates (or overwrites) <paramref name="path"/> and writes the header.</summary>
    public static TimeTagFileWriter Create(string path, TimeTagFileHeader header, int tagsPerChunk = DefaultTagsPerChunk) =>
        new(new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.Read, 1 << 16), header, tagsPerChunk);

    public TimeTagFileHeader Header { get; }

    /// <summary>Tags accepted so far (including those still buffered in the open chunk).</summary>
    public long TagsWritten { get; private set; }

    /// <summary>Chunks written to the stream so far.</summary>
    public long ChunksWritten { get; private set; }

    /// <summary>
    /// Appends tags. Every timestamp must be a multiple of the header's resolution (the format stores ticks and
    /// never rounds) and every kind one of <see cref="TimeTagKind"/>; a batch that breaks this is rejected whole.
    /// </summary>
    public void Write(ReadOnlySpan<TimeTag> tags)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Validate(tags);
        Span<byte> payload = _chunk.AsSpan(TimeTagFileLayout.ChunkHeaderBytes);
        foreach (ref readonly TimeTag tag in tags)
        {
            long ticks = _resolutionPs == 1 ? tag.TimePs : tag.TimePs / _resolutionPs;
            if (_recordsInChunk == 0)
            {
                _baseTicks = ticks;
                _previousTicks = ticks;
            }
            _payloadBytes = TimeTagRecordCodec.Encode(payload, _payloadBytes, tag, ticks, _previousTicks);
            _previousTicks = ticks;
            if (++_recordsInChunk == _tagsPerChunk) EmitChunk();
        }
        TagsWritten += tags.Length;
    }

    /// <summary>Closes the open chunk (if any) and flushes the stream, so everything written so far is readable.</summary>
    public void Flush()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_recordsInChunk > 0) EmitChunk();
        _stream.Flush();
    }

    /// <summary>
    /// Ends a recording that failed (the source broke off, the user cancelled): writes the open chunk so nothing
    /// received is lost, but no trailer, so every reader reports the file as cut off instead of taking it for a whole
    /// recording. Closes the stream unless told to leave it open; a later <see cref="Dispose"/> does nothing.
    /// </summary>
    public void Abandon()
    {
        if (_disposed) return;
        try
        {
            if (_recordsInChunk > 0) EmitChunk();
            _stream.Flush();
        }
        finally
        {
            _disposed = true;
            if (!_leaveOpen) _stream.Dispose();
        }
    }

    /// <summary>Writes the open chunk and the trailer, then closes the stream unless told to leave it open.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        try
        {
            if (_recordsInChunk > 0) EmitChunk();
            Span<byte> trailer = stackalloc byte[TimeTagFileLayout.TrailerBytes];
            BinaryPrimitives.WriteUInt32LittleEndian(trailer, TimeTagFileLayout.TrailerMagic);
            BinaryPrimitives.WriteInt64LittleEndian(trailer[4..], TagsWritten);
            BinaryPrimitives.WriteUInt32LittleEndian(trailer[12..], (uint)ChunksWritten);
            BinaryPrimitives.WriteUInt32LittleEndian(trailer[16..], Crc32C.Compute(trailer[..16]));
            _stream.Write(trailer);
            _stream.Flush();
        }
        finally
        {
            _disposed = true;
            if (!_leaveOpen) _stream.Dispose();
        }
    }

    private void Validate(ReadOnlySpan<TimeTag> tags)
    {
        for (int i = 0; i < tags.Length; i++)
        {
            if ((byte)tags[i].Kind > (byte)TimeTagKind.OverflowEnd)
                throw new ArgumentException($"Tag {i} has unknown kind {(byte)tags[i].Kind}.", nameof(tags));
            if (_resolutionPs != 1 && tags[i].TimePs % _resolutionPs != 0)
                throw new ArgumentException(
                    $"Tag {i} at {tags[i].TimePs} ps is not a multiple of the file's {_resolutionPs} ps resolution; the format stores ticks and never rounds.",
                    nameof(tags));
        }
    }

    private void EmitChunk()
    {
        Span<byte> chunk = _chunk;
        BinaryPrimitives.WriteUInt32LittleEndian(chunk, TimeTagFileLayout.ChunkMagic);
        BinaryPrimitives.WriteUInt32LittleEndian(chunk[4..], (uint)_recordsInChunk);
        BinaryPrimitives.WriteUInt32LittleEndian(chunk[8..], (uint)_payloadBytes);
        BinaryPrimitives.WriteInt64LittleEndian(chunk[12..], _baseTicks);
        BinaryPrimitives.WriteUInt32LittleEndian(chunk[20..], Crc32C.Compute(chunk[..20]));
        int payloadEnd = TimeTagFileLayout.ChunkHeaderBytes + _payloadBytes;
        BinaryPrimitives.WriteUInt32LittleEndian(chunk[payloadEnd..], Crc32C.Compute(chunk[TimeTagFileLayout.ChunkHeaderBytes..payloadEnd]));
        _stream.Write(chunk[..(payloadEnd + TimeTagFileLayout.ChunkCrcBytes)]);
        ChunksWritten++;
        _recordsInChunk = 0;
        _payloadBytes = 0;
    }
}
