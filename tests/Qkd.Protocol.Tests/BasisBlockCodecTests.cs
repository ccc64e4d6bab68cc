using CsCheck;
using Qkd.Core;
using Qkd.Protocol.Messages;

namespace Qkd.Protocol.Tests;

/// <summary>DetectorBasisData: one bit per slot, earlier slot in the least significant bit, after an i64 first index.</summary>
public class BasisBlockCodecTests
{
    [Fact]
    public void Packed_bases_read_back_slot_by_slot_with_their_first_index()
    {
        Gen.Select(Gen.Long[0, long.MaxValue], Gen.Int[0, 64]).SelectMany((first, bytes) => Gen.Byte[0, 1].Array[bytes * 8].Select(b => (first, b)))
            .Sample(t =>
            {
                var (first, raw) = t;
                Basis[] bases = raw.Select(b => (Basis)b).ToArray();
                var payload = new byte[BasisBlockCodec.PayloadLength(bases.Length)];
                BasisBlockCodec.WriteHeader(payload, first);
                BasisBlockCodec.Pack(bases, payload.AsSpan(BasisBlockCodec.HeaderLength));
                Assert.Equal(first, BasisBlockCodec.ReadFirstIndex(payload));
                for (int i = 0; i < bases.Length; i++)
                    Assert.Equal(bases[i], BasisBlockCodec.BasisAt(payload.AsSpan(BasisBlockCodec.HeaderLength), i));
            });
    }

    [Fact]
    public void The_layout_is_the_documented_one_and_bad_payloads_name_the_field()
    {
        // Slots 0..7 = Z X X Z Z Z Z X: bits 1, 2, 7 set.
        var payload = new byte[BasisBlockCodec.PayloadLength(8)];
        BasisBlockCodec.WriteHeader(payload, 8);
        BasisBlockCodec.Pack([Basis.Z, Basis.X, Basis.X, Basis.Z, Basis.Z, Basis.Z, Basis.Z, Basis.X], payload.AsSpan(8));
        Assert.Equal("080000000000000086", Convert.ToHexString(payload));
        Assert.Contains("at least 8", Assert.Throws<PayloadFormatException>(() => BasisBlockCodec.ReadFirstIndex(new byte[7])).Message);
        var negative = new byte[8];
        Array.Fill(negative, (byte)0xFF);
        Assert.Contains("negative", Assert.Throws<PayloadFormatException>(() => BasisBlockCodec.ReadFirstIndex(negative)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => BasisBlockCodec.PayloadLength(7));
        Assert.Throws<ArgumentOutOfRangeException>(() => BasisBlockCodec.PayloadLength(BasisBlockCodec.MaxBasesPerFrame + 8));
        Assert.Equal(ProtocolConstants.MaxPayloadLength, BasisBlockCodec.PayloadLength(BasisBlockCodec.MaxBasesPerFrame));
    }
}
