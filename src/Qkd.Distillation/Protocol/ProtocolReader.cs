using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Qkd.Core.Bits;

namespace Qkd.Distillation.Protocol;

/// <summary>
/// Reads one protocol message written by <see cref="ProtocolWriter"/>. Every read is bounds-checked: a truncated or
/// oversized field raises <see cref="ProtocolException"/> naming the field, never an index error or a huge allocation.
/// </summary>
public ref struct ProtocolReader
{
    private readonly ReadOnlySpan<byte> _data;
    private int _position;

    public ProtocolReader(ReadOnlySpan<byte> message, MessageType expected)
    {
        _data = message;
        if (message.IsEmpty)
            throw new ProtocolException($"Empty message where {expected} was expected.");
        if (message[0] != (byte)expected)
            throw new ProtocolException($"Expected a {expected} message, received {DescribeType(message[0])}.");
        _position = 1;
    }

    public static MessageType PeekType(ReadOnlySpan<byte> message) =>
        message.IsEmpty ? throw new ProtocolException("Empty message.") : (MessageType)message[0];

    public static string DescribeType(byte type) =>
        Enum.IsDefined(typeof(MessageType), type) ? ((MessageType)type).ToString() : $"unknown message type {type}";

    public readonly int Remaining => _data.Length - _position;

    /// <summary>The bytes not read yet, for bulk decoders; they say how many they used with <see cref="Skip"/>.</summary>
    public readonly ReadOnlySpan<byte> Unread => _data[_position..];

    /// <summary>Moves past <paramref name="count"/> bytes a bulk decoder took from <see cref="Unread"/>.</summary>
    public void Skip(int count)
    {
        if ((uint)count > (uint)Remaining) throw new ArgumentOutOfRangeException(nameof(count), count, $"Only {Remaining} bytes remain.");
        _position += count;
    }

    public byte ReadByte(string field)
    {
        if (_position >= _data.Length) throw Truncated(field);
        return _data[_position++];
    }

    public ulong ReadVarUInt64(string field)
    {
        ulong result = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            byte b = ReadByte(field);
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw new ProtocolException($"Field '{field}' is a varint longer than 64 bits.");
    }

    /// <summary>A non-negative count or index, at most <paramref name="maximum"/>.</summary>
    public long ReadVarInt64(string field, long maximum = long.MaxValue)
    {
        ulong value = ReadVarUInt64(field);
        if (value > (ulong)maximum)
            throw new ProtocolException($"Field '{field}' is {value}, more than the allowed {maximum}.");
        return (long)value;
    }

    public int ReadCount(string field, int maximum) => (int)ReadVarInt64(field, maximum);

    /// <summary>
    /// A count of items that each take at least <paramref name="minimumBytesEach"/> bytes of the rest of the message:
    /// a count the message cannot hold is refused here, before the receiver sizes a buffer for it.
    /// </summary>
    public int ReadCount(string field, int maximum, int minimumBytesEach)
    {
        int count = ReadCount(field, maximum);
        if ((long)count * minimumBytesEach > Remaining)
            throw new ProtocolException($"Field '{field}' is {count}, but only {Remaining} bytes follow (at least {minimumBytesEach} per item).");
        return count;
    }

    /// <summary>A flag byte: 0 or 1, anything else is refused rather than read as true.</summary>
    public bool ReadBoolean(string field)
    {
        byte value = ReadByte(field);
        if (value > 1)
            throw new ProtocolException($"Field '{field}' is {value}; a flag is 0 or 1.");
        return value == 1;
    }

    public ulong ReadUInt64(string field)
    {
        if (Remaining < 8) throw Truncated(field);
        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(_data[_position..]);
        _position += 8;
        return v;
    }

    public double ReadDouble(string field) => BitConverter.UInt64BitsToDouble(ReadUInt64(field));

    public ReadOnlySpan<byte> ReadBytes(string field, int maximumLength)
    {
        int length = ReadCount(field + " length", maximumLength);
        if (Remaining < length) throw Truncated(field);
        var slice = _data.Slice(_position, length);
        _position += length;
        return slice;
    }

    public string ReadString(string field, int maximumLength = 4096) =>
        System.Text.Encoding.UTF8.GetString(ReadBytes(field, maximumLength));

    public PackedBits ReadBits(string field, long maximumBits)
    {
        long length = ReadVarInt64(field + " length", maximumBits);
        // Compared as a long: a bit length near the maximum must read as truncated, not wrap to a small byte count.
        long byteCount = length / 8 + (length % 8 == 0 ? 0 : 1);
        if (Remaining < byteCount) throw Truncated(field);
        var bits = PackedBits.FromBytes(_data.Slice(_position, (int)byteCount), length);
        _position += (int)byteCount;
        return bits;
    }

    /// <summary>
    /// Reads a bit string of exactly <paramref name="count"/> bits into bits [offset, offset + count) of
    /// <paramref name="destination"/>, byte for byte (the offset must be a whole number of bytes). The receiver sizes
    /// the destination from its own state, so the peer's length field can only be refused, never make it allocate.
    /// Bits of the last byte past the string are ignored, as <see cref="ReadBits(string, long)"/> does.
    /// </summary>
    /// <exception cref="ProtocolException">The string is not <paramref name="count"/> bits long, or is truncated.</exception>
    public void ReadBits(string field, PackedBits destination, long offset, long count)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (offset < 0 || count < 0 || offset + count > destination.Length)
            throw new ArgumentOutOfRangeException(nameof(count), $"Bits [{offset}, {offset + count}) lie outside the {destination.Length} bits of the destination.");
        if ((offset & 7) != 0)
            throw new ArgumentException($"A bit range is read to a byte boundary; offset {offset} is not one.", nameof(offset));
        long length = ReadVarInt64(field + " length", long.MaxValue);
        if (length != count)
            throw new ProtocolException($"Field '{field}' has {length} bits, expected {count}.");
        int byteCount = checked((int)((count + 7) / 8));
        if (Remaining < byteCount) throw Truncated(field);
        var source = _data.Slice(_position, byteCount);
        int first = checked((int)(offset >> 3));
        Span<ulong> words = destination.Words;
        // A string ending inside a byte takes only its own bits of that byte; the destination keeps the others.
        int tail = (int)(count & 7);
        byte keep = tail == 0 ? (byte)0 : (byte)~((1 << tail) - 1);
        if (BitConverter.IsLittleEndian)
        {
            Span<byte> bytes = MemoryMarshal.AsBytes(words).Slice(first, byteCount);
            byte last = byteCount > 0 ? bytes[byteCount - 1] : (byte)0;
            source.CopyTo(bytes);
            if (tail != 0) bytes[byteCount - 1] = (byte)((bytes[byteCount - 1] & ~keep) | (last & keep));
        }
        else
        {
            for (int i = 0; i < byteCount; i++)
            {
                int b = first + i, shift = (b & 7) * 8;
                ulong old = (words[b >> 3] >> shift) & 0xFF;
                ulong value = i == byteCount - 1 ? (source[i] & ~(ulong)keep & 0xFF) | (old & keep) : source[i];
                words[b >> 3] = (words[b >> 3] & ~(0xFFUL << shift)) | (value << shift);
            }
        }
        _position += byteCount;
    }

    /// <summary>Reads values written by <see cref="ProtocolWriter.WritePacked"/> into <paramref name="destination"/>; returns the count.</summary>
    public int ReadPacked(string field, int bitsPerValue, Span<byte> destination)
    {
        int count = ReadCount(field + " count", destination.Length);
        long byteCount = ((long)count * bitsPerValue + 7) / 8; // a long: count * bitsPerValue can pass int.MaxValue
        if (Remaining < byteCount) throw Truncated(field);
        ValuePacking.Unpack(_data.Slice(_position, (int)byteCount), bitsPerValue, destination[..count]);
        _position += (int)byteCount;
        return count;
    }

    /// <summary>
    /// <see cref="ReadPacked"/> without unpacking: the same checks (at most <paramref name="maximumCount"/> values, all
    /// bytes present), and the values' bytes are left in the message for a kernel that reads the packed form. Returns
    /// the count; the bytes start at <paramref name="offset"/> of the message.
    /// </summary>
    public int ReadPackedBytes(string field, int bitsPerValue, int maximumCount, out int offset)
    {
        int count = ReadCount(field + " count", maximumCount);
        long byteCount = ((long)count * bitsPerValue + 7) / 8;
        if (Remaining < byteCount) throw Truncated(field);
        offset = _position;
        _position += (int)byteCount;
        return count;
    }

    /// <summary>Call after the last field: trailing bytes mean the peer speaks another version of the protocol.</summary>
    public readonly void EnsureEnd(MessageType type)
    {
        if (Remaining != 0)
            throw new ProtocolException($"{type} message has {Remaining} unexpected trailing bytes.");
    }

    private readonly ProtocolException Truncated(string field) =>
        new($"Message truncated while reading field '{field}' at byte {_position} of {_data.Length}.");
}
