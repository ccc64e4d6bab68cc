using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Qkd.Core.Bits;

namespace Qkd.Distillation.Protocol;

/// <summary>
/// Builds one protocol message: LEB128 varints for counts and indices, little-endian fixed-width numbers,
/// packed bit strings. Reused across messages (call <see cref="Begin"/>) so that steady-state traffic does not allocate.
/// </summary>
public sealed class ProtocolWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);

    public ProtocolWriter Begin(MessageType type)
    {
        _buffer.ResetWrittenCount();
        WriteByte((byte)type);
        return this;
    }

    public ReadOnlyMemory<byte> Message => _buffer.WrittenMemory;

    /// <summary>At least <paramref name="sizeHint"/> bytes to write into directly, then <see cref="Advance"/> (bulk encoders).</summary>
    public Span<byte> GetSpan(int sizeHint) => _buffer.GetSpan(sizeHint);

    /// <summary>Commits <paramref name="count"/> bytes written into <see cref="GetSpan"/>'s span.</summary>
    public void Advance(int count) => _buffer.Advance(count);

    public void WriteByte(byte value)
    {
        _buffer.GetSpan(1)[0] = value;
        _buffer.Advance(1);
    }

    public void WriteVarUInt64(ulong value)
    {
        Span<byte> span = _buffer.GetSpan(10);
        int i = 0;
        while (value >= 0x80)
        {
            span[i++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[i++] = (byte)value;
        _buffer.Advance(i);
    }

    public void WriteVarInt64(long value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        WriteVarUInt64((ulong)value);
    }

    public void WriteUInt64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_buffer.GetSpan(8), value);
        _buffer.Advance(8);
    }

    public void WriteDouble(double value) => WriteUInt64(BitConverter.DoubleToUInt64Bits(value));

    public void WriteBytes(ReadOnlySpan<byte> bytes)
    {
        WriteVarInt64(bytes.Length);
        bytes.CopyTo(_buffer.GetSpan(bytes.Length));
        _buffer.Advance(bytes.Length);
    }

    public void WriteString(string value) => WriteBytes(System.Text.Encoding.UTF8.GetBytes(value));

    /// <summary>Bit length, then the bits, 8 per byte, little-endian.</summary>
    public void WriteBits(PackedBits bits) => WriteBits(bits, 0, bits.Length);

    /// <summary>
    /// Bits [offset, offset + count) of <paramref name="bits"/> as a bit string (<see cref="WriteBits(PackedBits)"/>'s
    /// format). The offset must be a whole number of bytes, so the range is copied byte for byte, never bit by bit.
    /// </summary>
    public void WriteBits(PackedBits bits, long offset, long count)
    {
        ArgumentNullException.ThrowIfNull(bits);
        if (offset < 0 || count < 0 || offset + count > bits.Length)
            throw new ArgumentOutOfRangeException(nameof(count), $"Bits [{offset}, {offset + count}) lie outside the {bits.Length} bits.");
        if ((offset & 7) != 0)
            throw new ArgumentException($"A bit range is written from a byte boundary; offset {offset} is not one.", nameof(offset));
        WriteVarInt64(count);
        int byteCount = checked((int)((count + 7) / 8));
        Span<byte> span = _buffer.GetSpan(byteCount)[..byteCount];
        int first = checked((int)(offset >> 3));
        if (BitConverter.IsLittleEndian)
        {
            // The words' memory is already the wire order: byte b holds bits 8b .. 8b + 7.
            MemoryMarshal.AsBytes(bits.Words).Slice(first, byteCount).CopyTo(span);
        }
        else
        {
            var words = bits.Words;
            for (int i = 0; i < byteCount; i++)
                span[i] = (byte)(words[(first + i) >> 3] >> (((first + i) & 7) * 8));
        }
        // A range ending inside a byte: the bits after it are not part of the string.
        int tail = (int)(count & 7);
        if (tail != 0) span[byteCount - 1] &= (byte)((1 << tail) - 1);
        _buffer.Advance(byteCount);
    }

    /// <summary>A sequence of small values (each &lt; 2^bitsPerValue) packed densely.</summary>
    public void WritePacked(ReadOnlySpan<byte> values, int bitsPerValue)
    {
        WriteVarInt64(values.Length);
        int byteCount = (int)(((long)values.Length * bitsPerValue + 7) / 8);
        ValuePacking.Pack(values, bitsPerValue, _buffer.GetSpan(byteCount));
        _buffer.Advance(byteCount);
    }
}
