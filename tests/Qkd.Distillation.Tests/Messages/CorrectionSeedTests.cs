using CsCheck;
using Qkd.Distillation.Messages;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Tests.Messages;

public class CorrectionSeedTests
{
    [Fact]
    public void Round_trips_and_refuses_every_truncation()
    {
        Gen.Select(Gen.Long[0, long.MaxValue], Gen.ULong.Array[0, 40]).Sample((blockId, seeds) =>
        {
            byte[] message = new CorrectionSeed(blockId, seeds).Write(new ProtocolWriter()).ToArray();

            var back = CorrectionSeed.Read(message);
            Assert.Equal(blockId, back.BlockId);
            Assert.Equal(seeds, back.Seeds);

            WireChecks.MalformedIsRejected(message, CorrectionSeed.Type, m => CorrectionSeed.Read(m));
        });
    }

    [Fact]
    public void Wire_format_is_pinned()
    {
        // Block 3, 2 frames, then each seed as a little-endian 64-bit word.
        var message = new CorrectionSeed(3, [0x0123456789ABCDEF, 1]).Write(new ProtocolWriter());
        Assert.Equal("060302EFCDAB89674523010100000000000000", WireChecks.Hex(message));
    }

    [Fact]
    public void A_frame_count_the_message_cannot_hold_is_refused_before_allocating()
    {
        // 2^31 - 1 frames announced, one seed sent
        var e = Assert.Throws<ProtocolException>(() => CorrectionSeed.Read(Convert.FromHexString("0603FFFFFFFF070100000000000000")));
        Assert.Contains("Field 'frame count' is 2147483647, but only 8 bytes follow", e.Message);
    }
}
