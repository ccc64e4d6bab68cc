using CsCheck;
using Qkd.Distillation.Messages;
using Qkd.Distillation.Protocol;
using Qkd.Distillation.Verification;

namespace Qkd.Distillation.Tests.Messages;

public class VerificationTagTests
{
    [Fact]
    public void Round_trips_and_refuses_every_truncation()
    {
        Gen.Select(Gen.Long[0, long.MaxValue], Gen.Int[0, PolynomialHash.MaxLanes], Gen.ULong.Array[2 * PolynomialHash.MaxLanes]).Sample((blockId, lanes, words) =>
        {
            ulong[] keys = words[..lanes], tag = words[PolynomialHash.MaxLanes..][..lanes];
            byte[] message = new VerificationTag(blockId, keys, tag).Write(new ProtocolWriter()).ToArray();

            var back = VerificationTag.Read(message);
            Assert.Equal(blockId, back.BlockId);
            Assert.Equal(keys, back.Keys);
            Assert.Equal(tag, back.Tag);

            WireChecks.MalformedIsRejected(message, VerificationTag.Type, m => VerificationTag.Read(m));
        });
    }

    [Fact]
    public void Wire_format_is_pinned()
    {
        // Block 3, 2 lanes, keys 1 and 2, then the tag words, each a little-endian 64-bit word.
        var message = new VerificationTag(3, [1, 2], [ulong.MaxValue, 0x1122334455667788]).Write(new ProtocolWriter());
        Assert.Equal("0A0302" + "0100000000000000" + "0200000000000000" + "FFFFFFFFFFFFFFFF" + "8877665544332211", WireChecks.Hex(message));
    }

    [Fact]
    public void More_lanes_than_the_hash_has_are_refused()
    {
        var e = Assert.Throws<ProtocolException>(() => VerificationTag.Read(Convert.FromHexString("0A0341")));
        Assert.Contains("Field 'lanes' is 65, more than the allowed 64", e.Message);
        Assert.Throws<ArgumentException>(() => new VerificationTag(3, new ulong[65], new ulong[65]));
        Assert.Throws<ArgumentException>(() => new VerificationTag(3, [1, 2], [1]));
    }
}
