using CsCheck;
using Qkd.Core.Bits;
using Qkd.Distillation.Messages;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Tests.Messages;

public class BlockStartTests
{
    [Fact]
    public void Round_trips_and_refuses_every_truncation()
    {
        Gen.Select(Gen.Long[0, long.MaxValue], Gen.Long[0, long.MaxValue], Gen.Bool.Array[0, 300]).Sample((blockId, zCount, x) =>
        {
            var xBits = PackedBits.FromBools(x);
            byte[] message = new BlockStart(blockId, zCount, xBits).Write(new ProtocolWriter()).ToArray();

            var back = BlockStart.Read(message);
            Assert.Equal(blockId, back.BlockId);
            Assert.Equal(zCount, back.ZCount);
            Assert.True(xBits.ContentEquals(back.XBits));

            WireChecks.MalformedIsRejected(message, BlockStart.Type, m => BlockStart.Read(m));
        });
    }

    [Fact]
    public void Wire_format_is_pinned()
    {
        // Block 3, 1000 Z records (E8 07), 10 X records, then the 10 X bits: length 10, bytes 0D 03 (LSB first).
        var x = PackedBits.FromBools([true, false, true, true, false, false, false, false, true, true]);
        Assert.Equal("0303E8070A0A0D03", WireChecks.Hex(new BlockStart(3, 1000, x).Write(new ProtocolWriter())));
    }

    public static TheoryData<string, string> Malformed => new()
    {
        // X count 10 but 9 bits
        { "0303E8070A090D01", "Bob sent 9 X bits for 10 X records" },
        // 10 bits for an X count of 9
        { "0303E807090A0D03", "Field 'Bob's X bits length' is 10, more than the allowed 9" },
        // a bit length of 2^62 with one byte of bits: truncated, not an overflow or a huge allocation
        { "030300808080808080808040808080808080808040FF", "Message truncated while reading field 'Bob's X bits'" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_block_starts_are_refused_with_the_reason(string hex, string expected)
    {
        var e = Assert.Throws<ProtocolException>(() => BlockStart.Read(Convert.FromHexString(hex)));
        Assert.Contains(expected, e.Message);
    }
}
