using CsCheck;
using Qkd.Protocol;

namespace Qkd.Protocol.Tests;

public class CobsAndFrameCodecTests
{
    /// <summary>Arrays that stress COBS: random, all zero, all 0xFF, and runs around the 254-byte block size.</summary>
    private static readonly Gen<byte[]> CobsInputs = Gen.OneOf(
        Gen.Byte.Array[0, 2000],
        Gen.Int[0, 1100].Select(n => new byte[n]),
        Gen.Int[0, 1100].Select(n => Enumerable.Repeat((byte)0xFF, n).ToArray()),
        Gen.Select(Gen.Int[250, 260], Gen.Int[0, 3], Gen.Byte[1, 255], (run, zeros, fill) =>
            Enumerable.Repeat(fill, run).Concat(new byte[zeros]).Concat(Enumerable.Repeat(fill, run)).ToArray()),
        Gen.Byte.Array[0, 600].Select(a => a.Select(b => b < 8 ? (byte)0 : b).ToArray()));

    [Fact]
    public void Cobs_round_trips_and_never_emits_a_zero()
    {
        CobsInputs.Sample(data =>
        {
            var encoded = new byte[Cobs.MaxEncodedLength(data.Length)];
            int n = Cobs.Encode(data, encoded);
            Assert.True(n <= Cobs.MaxEncodedLength(data.Length));
            Assert.DoesNotContain((byte)0, encoded[..n]);
            Assert.Equal(Reference.CobsEncode(data), encoded[..n]);
            var decoded = new byte[data.Length];
            Assert.Equal(data.Length, Cobs.Decode(encoded.AsSpan(0, n), decoded));
            Assert.Equal(data, decoded);
        }, iter: 2000, seed: "0m8dg3sT2jLx");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(253)]
    [InlineData(254)]
    [InlineData(255)]
    [InlineData(256)]
    [InlineData(508)]
    [InlineData(509)]
    public void Cobs_handles_all_zero_and_all_ff_runs_at_block_boundaries(int length)
    {
        foreach (byte fill in new byte[] { 0x00, 0xFF })
        {
            byte[] data = Enumerable.Repeat(fill, length).ToArray();
            var encoded = new byte[Cobs.MaxEncodedLength(length)];
            int n = Cobs.Encode(data, encoded);
            Assert.Equal(Reference.CobsEncode(data), encoded[..n]);
            // Zeros cost one code byte each plus one; 0xFF runs one code byte per started 254 bytes (at least one).
            Assert.Equal(fill == 0 ? length + 1 : length + Math.Max(1, (length + 253) / 254), n);
            var decoded = new byte[length];
            Assert.Equal(length, Cobs.Decode(encoded.AsSpan(0, n), decoded));
            Assert.Equal(data, decoded);
        }
    }

    [Fact]
    public void Cobs_decode_rejects_invalid_input_and_never_overruns_the_destination()
    {
        Gen.Byte.Array[0, 700].Sample(data =>
        {
            var small = new byte[Math.Max(0, data.Length / 2)];
            int n = Cobs.Decode(data, small);
            Assert.True(n >= -1 && n <= small.Length);
            Assert.Equal(Reference.CobsDecode(data) is { } r && r.Length <= small.Length ? r.Length : -1, n);
        }, iter: 2000, seed: "0F2l7aE9Qh1b");
    }

    [Fact]
    public void Cobs_encode_refuses_a_destination_that_may_be_too_small()
    {
        var e = Assert.Throws<ArgumentException>(() => Cobs.Encode(new byte[300], new byte[300]));
        Assert.Contains("may need", e.Message);
    }

    public static readonly Gen<FrameFlags> ValidFlags = Gen.Int[0, 4].Select(i => new[] { FrameFlags.None, FrameFlags.Response, FrameFlags.Response | FrameFlags.Nack, FrameFlags.Event, FrameFlags.Stream }[i]);

    public static readonly Gen<(FrameHeader Header, byte[] Payload)> Frames =
        Gen.Select(Gen.Byte[0, 3], Gen.Byte, ValidFlags, Gen.UInt, Gen.Byte.Array[0, 1500], (c, t, f, s, p) =>
            (new FrameHeader((DeviceClass)c, (MessageType)t, f, s, p.Length), p));

    [Fact]
    public void Frame_encode_decode_round_trips()
    {
        Frames.Sample(frame =>
        {
            var raw = new byte[FrameCodec.FrameLength(frame.Payload.Length)];
            Assert.Equal(raw.Length, FrameCodec.Encode(frame.Header with { PayloadLength = 12345 }, frame.Payload, raw));
            Assert.Equal(Reference.Crc32C(raw.AsSpan(0, raw.Length - 4)), BitConverter.ToUInt32(raw, raw.Length - 4));
            Assert.Equal(FrameError.None, FrameCodec.TryDecode(raw, out FrameHeader header, out ReadOnlySpan<byte> payload));
            Assert.Equal(frame.Header, header);
            Assert.Equal(frame.Payload, payload.ToArray());
            Assert.Equal(raw.Length, FrameCodec.DeclaredFrameLength(raw));
        }, iter: 1000, seed: "0Zq1x8mB3vKd");
    }

    [Fact]
    public void Every_single_bit_flip_of_a_frame_is_rejected()
    {
        Frames.Sample(frame =>
        {
            var raw = new byte[FrameCodec.FrameLength(frame.Payload.Length)];
            FrameCodec.Encode(frame.Header, frame.Payload, raw);
            for (int bit = 0; bit < Math.Min(raw.Length * 8, 400); bit++)
            {
                raw[bit / 8] ^= (byte)(1 << (bit % 8));
                Assert.NotEqual(FrameError.None, FrameCodec.TryDecode(raw, out _, out _));
                raw[bit / 8] ^= (byte)(1 << (bit % 8));
            }
        }, iter: 50, seed: "0JvD2l9aKq4c");
    }

    [Fact]
    public void Only_the_five_documented_flag_combinations_are_valid()
    {
        var valid = Enumerable.Range(0, 256).Where(f => FrameFlagsRules.IsValid((FrameFlags)f)).ToArray();
        Assert.Equal([0x00, 0x01, 0x03, 0x04, 0x08], valid);
    }

    [Fact]
    public void Header_refuses_a_payload_longer_than_the_maximum()
    {
        var header = new FrameHeader(DeviceClass.TimeTagger, MessageType.TaggerTagData, FrameFlags.Stream, 0, ProtocolConstants.MaxPayloadLength + 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => header.WriteTo(new byte[ProtocolConstants.HeaderLength]));
        Assert.Equal(65_536, ProtocolConstants.MaxFrameLength);
        Assert.Equal(65_795, ProtocolConstants.MaxEncodedFrameLength);
    }
}
