using CsCheck;
using Qkd.Core.Bits;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Tests.Protocol;

public class ProtocolCodecTests
{
    [Fact]
    public void Fields_round_trip()
    {
        Gen.Select(Gen.ULong.Array[0, 20], Gen.Byte.Array[0, 300], Gen.Int[1, 3], Gen.Double).Sample((numbers, values, bitsPerValue, d) =>
        {
            var packed = values.Select(v => (byte)(v & ((1 << bitsPerValue) - 1))).ToArray();
            var bits = PackedBits.FromBools(values.Select(v => (v & 1) == 1).ToArray());
            var w = new ProtocolWriter().Begin(MessageType.Goodbye);
            foreach (ulong n in numbers) w.WriteVarUInt64(n);
            w.WritePacked(packed, bitsPerValue);
            w.WriteBits(bits);
            w.WriteDouble(d);
            w.WriteString("fin");

            var r = new ProtocolReader(w.Message.Span, MessageType.Goodbye);
            foreach (ulong n in numbers)
                if (r.ReadVarUInt64("n") != n) return false;
            var back = new byte[packed.Length];
            if (r.ReadPacked("v", bitsPerValue, back) != packed.Length || !back.AsSpan().SequenceEqual(packed)) return false;
            if (!r.ReadBits("b", 1000).ContentEquals(bits)) return false;
            if (BitConverter.DoubleToInt64Bits(r.ReadDouble("d")) != BitConverter.DoubleToInt64Bits(d)) return false;
            if (r.ReadString("s") != "fin") return false;
            r.EnsureEnd(MessageType.Goodbye);
            return true;
        });
    }

    [Fact]
    public void Bit_ranges_round_trip_into_place_and_leave_the_rest_of_the_destination_alone()
    {
        Gen.Select(Gen.Bool.Array[1, 400], Gen.Int[0, 50], Gen.Int[0, 400], Gen.Bool.Array[400]).Sample((source, byteOffset, count, background) =>
        {
            var bits = PackedBits.FromBools(source);
            long offset = Math.Min(8L * byteOffset, bits.Length / 8 * 8);
            long length = Math.Min(count, bits.Length - offset);
            var w = new ProtocolWriter().Begin(MessageType.Goodbye);
            w.WriteBits(bits, offset, length);
            // The same bytes as the bit string of the range taken out first.
            var plain = new ProtocolWriter().Begin(MessageType.Goodbye);
            plain.WriteBits(bits.Slice(offset, length));
            Assert.Equal(plain.Message.ToArray(), w.Message.ToArray());

            var destination = PackedBits.FromBools(background);
            var expected = destination.Clone();
            expected.CopyFrom(bits.Slice(offset, length), offset);
            var r = new ProtocolReader(w.Message.Span, MessageType.Goodbye);
            r.ReadBits("b", destination, offset, length);
            r.EnsureEnd(MessageType.Goodbye);
            Assert.True(expected.ContentEquals(destination));
        });
    }

    [Fact]
    public void Bit_ranges_start_on_a_byte_and_are_read_at_the_expected_length_only()
    {
        var bits = new PackedBits(100);
        Assert.Throws<ArgumentException>(() => new ProtocolWriter().Begin(MessageType.Goodbye).WriteBits(bits, 3, 10));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ProtocolWriter().Begin(MessageType.Goodbye).WriteBits(bits, 96, 10));
        var w = new ProtocolWriter().Begin(MessageType.Goodbye);
        w.WriteBits(bits, 8, 20);
        byte[] message = w.Message.ToArray();
        Assert.Contains("Field 'b' has 20 bits, expected 21", Assert.Throws<ProtocolException>(() =>
        {
            var r = new ProtocolReader(message, MessageType.Goodbye);
            r.ReadBits("b", new PackedBits(100), 0, 21);
        }).Message);
        Assert.Throws<ArgumentException>(() =>
        {
            var r = new ProtocolReader(message, MessageType.Goodbye);
            r.ReadBits("b", new PackedBits(100), 4, 20);
        });
    }

    [Fact]
    public void Every_truncation_of_a_message_is_rejected_with_the_field_named()
    {
        var w = new ProtocolWriter().Begin(MessageType.BlockStart);
        w.WriteVarInt64(3);
        w.WriteVarInt64(123456);
        w.WriteBits(PackedBits.FromBools([true, false, true, true, false, false, true, true, true]));
        byte[] full = w.Message.ToArray();
        for (int cut = 1; cut < full.Length; cut++)
        {
            var e = Assert.Throws<ProtocolException>(() =>
            {
                var r = new ProtocolReader(full.AsSpan(0, cut), MessageType.BlockStart);
                r.ReadVarInt64("block id");
                r.ReadVarInt64("Z count");
                r.ReadBits("Bob's X bits", 100);
                r.EnsureEnd(MessageType.BlockStart);
            });
            Assert.Contains("'", e.Message); // names the field
        }
    }

    [Fact]
    public void Wrong_type_oversized_count_and_trailing_bytes_are_rejected()
    {
        var w = new ProtocolWriter().Begin(MessageType.SiftRequest);
        w.WriteVarInt64(1L << 40);
        byte[] message = w.Message.ToArray();
        Assert.Contains("Expected a SiftResponse", Assert.Throws<ProtocolException>(() => new ProtocolReader(message, MessageType.SiftResponse)).Message);
        Assert.Contains("more than the allowed", Assert.Throws<ProtocolException>(() =>
        {
            var r = new ProtocolReader(message, MessageType.SiftRequest);
            r.ReadCount("detection count", 1 << 24);
        }).Message);
        Assert.Contains("trailing", Assert.Throws<ProtocolException>(() =>
        {
            var r = new ProtocolReader(message, MessageType.SiftRequest);
            r.EnsureEnd(MessageType.SiftRequest);
        }).Message);
        Assert.Contains("unknown message type 200", Assert.Throws<ProtocolException>(() => new ProtocolReader(new byte[] { 200 }, MessageType.SiftRequest)).Message);
    }

    [Fact]
    public void Random_garbage_never_escapes_as_anything_but_a_protocol_error()
    {
        Gen.Byte.Array[0, 64].Sample(bytes =>
        {
            try
            {
                var r = new ProtocolReader(bytes, MessageType.ParityQueries);
                r.ReadVarInt64("block id");
                int n = r.ReadCount("count", 1000);
                for (int i = 0; i < n; i++) r.ReadVarInt64("q");
                r.ReadBits("bits", 4096);
                var dest = new byte[100];
                r.ReadPacked("p", 2, dest);
                r.EnsureEnd(MessageType.ParityQueries);
            }
            catch (ProtocolException)
            {
            }
        });
    }
}
