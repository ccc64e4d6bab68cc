using System.Net;
using CsCheck;
using Qkd.ClassicalChannel;
using Qkd.Core.Bits;
using Qkd.Distillation.Messages;
using Qkd.Distillation.Protocol;
using Qkd.Distillation.Tests.PrivacyAmplification;

namespace Qkd.Distillation.Tests.Messages;

public class AmplificationSeedTests
{
    [Fact]
    public void Round_trips_in_every_part_and_refuses_every_truncation()
    {
        // Part sizes of one to four words cut seeds of up to 799 bits into many parts; 0 stands for the protocol's size.
        Gen.Select(Gen.Long[0, long.MaxValue], Gen.Int[1, 400], Gen.Double[0, 1], Gen.Int[0, 4], Gen.ULong, Gen.Bool)
            .Sample((blockId, n, fraction, partWords, bits, noKey) =>
        {
            long l = noKey ? 0 : Math.Clamp((long)Math.Ceiling(fraction * n), 1, n);
            long partBits = partWords == 0 ? AmplificationSeed.PartBits : 64L * partWords;
            PackedBits? seed = l > 0 ? RandomWords.Bits(n + l - 1, bits) : null;
            var value = new AmplificationSeed(blockId, l, seed, partBits);
            Assert.Equal(seed is null ? 1 : (int)((seed.Length + partBits - 1) / partBits), value.MessageCount);
            byte[][] messages = [.. Enumerable.Range(0, value.MessageCount).Select(p => value.Write(new ProtocolWriter(), p).ToArray())];

            WireChecks.MalformedIsRejected(messages[0], AmplificationSeed.Type, m => AmplificationSeed.Read(m, n, partBits));
            var back = AmplificationSeed.Read(messages[0], n, partBits);
            for (int p = 1; p < messages.Length; p++)
            {
                Assert.False(back.IsComplete);
                var before = back;
                WireChecks.MalformedIsRejected(messages[p], AmplificationSeed.Type, m => before.ReadNext(m));
                back = back.ReadNext(messages[p]);
            }

            Assert.True(back.IsComplete);
            Assert.Equal(blockId, back.BlockId);
            Assert.Equal(l, back.SecretBits);
            if (seed is null) Assert.Null(back.Seed);
            else Assert.True(seed.ContentEquals(back.Seed!), "the seed read back differs");
        });
    }

    [Fact]
    public void Wire_format_is_pinned()
    {
        // Block 3, key length 5, seed length 24 (n = 20), part 0, then the part as a bit string: length 24, bytes.
        var seed = PackedBits.FromBytes([0xA5, 0x5A, 0xFF], 24);
        Assert.Equal("0C03051800" + "18A55AFF", WireChecks.Hex(new AmplificationSeed(3, 5, seed).Write(new ProtocolWriter())));
        // No key: the length 0 and nothing after it.
        Assert.Equal("0C0300", WireChecks.Hex(new AmplificationSeed(3, 0, null).Write(new ProtocolWriter())));
    }

    [Fact]
    public void A_seed_longer_than_a_part_goes_in_several_messages()
    {
        // n = 60, l = 10: 69 seed bits in parts of 64, so 64 bits in part 0 and 5 in part 1 (the bits past the seed's
        // end are not sent: 0xFF in, 0x1F on the wire).
        var seed = PackedBits.FromBytes([1, 2, 3, 4, 5, 6, 7, 8, 0xFF], 69);
        var value = new AmplificationSeed(3, 10, seed, partBits: 64);
        Assert.Equal(2, value.MessageCount);
        Assert.Equal("0C030A4500" + "400102030405060708", WireChecks.Hex(value.Write(new ProtocolWriter(), 0)));
        Assert.Equal("0C030A4501" + "051F", WireChecks.Hex(value.Write(new ProtocolWriter(), 1)));

        var first = AmplificationSeed.Read(Convert.FromHexString("0C030A45004001020304050607" + "08"), 60, 64);
        Assert.False(first.IsComplete);
        var whole = first.ReadNext(Convert.FromHexString("0C030A4501051F"));
        Assert.True(whole.IsComplete);
        Assert.True(seed.ContentEquals(whole.Seed!));
        Assert.Throws<InvalidOperationException>(() => whole.ReadNext(Convert.FromHexString("0C030A4501051F")));
    }

    public static TheoryData<string, string> MalformedFirst => new()
    {
        // n = 20, l = 5: the seed must be 24 bits. One bit more, one bit less:
        { "0C03051900" + "19A55AFF01", "Toeplitz seed of 25 bits; a 5 x 20 matrix takes n + l - 1 = 24" },
        { "0C03051700" + "17A55A7F", "Toeplitz seed of 23 bits; a 5 x 20 matrix takes n + l - 1 = 24" },
        // a seed length that overflows n + l - 1 only if computed carelessly
        { "0C0305FFFFFFFFFFFFFFFF7F00" + "18A55AFF", "Toeplitz seed of 9223372036854775807 bits; a 5 x 20 matrix takes n + l - 1 = 24" },
        // a key longer than the block
        { "0C03152800" + "28A55AFFA55A", "Field 'key length' is 21, more than the allowed 20" },
        // the right length announced, another one sent
        { "0C03051800" + "17A55A7F", "Field 'Toeplitz seed bits' has 23 bits, expected 24" },
        { "0C03051800" + "19A55AFF01", "Field 'Toeplitz seed bits' has 25 bits, expected 24" },
        // bits missing
        { "0C03051800" + "18A55A", "Message truncated while reading field 'Toeplitz seed bits'" },
        // not part 0
        { "0C03051801" + "18A55AFF", "Toeplitz seed part 1 where part 0 of 1 comes next" },
        // a seed after a zero length
        { "0C0300" + "1800" + "18A55AFF", "6 unexpected trailing bytes" },
    };

    [Theory]
    [MemberData(nameof(MalformedFirst))]
    public void Malformed_seeds_are_refused_with_the_reason(string hex, string expected)
    {
        var e = Assert.Throws<ProtocolException>(() => AmplificationSeed.Read(Convert.FromHexString(hex), 20));
        Assert.Contains(expected, e.Message);
    }

    public static TheoryData<string, string> MalformedNext => new()
    {
        { "0C040A4501" + "051F", "Toeplitz seed part for block 4 while block 3's seed is incomplete" },
        { "0C03094401" + "051F", "Block 3: a seed part for a key of 9 bits, the seed's first part said 10" },
        { "0C030A4601" + "063F", "Toeplitz seed of 70 bits; a 10 x 60 matrix takes n + l - 1 = 69" },
        { "0C030A4500" + "400102030405060708", "Toeplitz seed part 0 where part 1 of 2 comes next" },
        { "0C030A4502" + "051F", "Toeplitz seed part 2 where part 1 of 2 comes next" },
        { "0C030A4501" + "061F", "Field 'Toeplitz seed bits' has 6 bits, expected 5" },
    };

    [Theory]
    [MemberData(nameof(MalformedNext))]
    public void Later_parts_must_continue_the_same_seed(string hex, string expected)
    {
        var first = AmplificationSeed.Read(Convert.FromHexString("0C030A4500" + "400102030405060708"), 60, 64);
        var e = Assert.Throws<ProtocolException>(() => first.ReadNext(Convert.FromHexString(hex)));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void The_seed_must_match_the_key_length()
    {
        Assert.Throws<ArgumentException>(() => new AmplificationSeed(3, 0, new PackedBits(24)));
        Assert.Throws<ArgumentException>(() => new AmplificationSeed(3, 10, null));
        Assert.Throws<ArgumentException>(() => new AmplificationSeed(3, 10, new PackedBits(18))); // n + l - 1 >= 2l - 1
        Assert.Throws<ArgumentOutOfRangeException>(() => new AmplificationSeed(3, -1, null));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AmplificationSeed(3, 5, new PackedBits(24), partBits: 100));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AmplificationSeed(3, 5, new PackedBits(24)).Write(new ProtocolWriter(), 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => AmplificationSeed.Read(Convert.FromHexString("0C0300"), 0));
    }

    [Fact]
    public void A_full_part_fits_the_classical_channel_and_the_largest_block_needs_16()
    {
        // The largest block a node accepts is 2^30 sifted bits, so its seed has at most 2^31 - 2 bits.
        const long largestSeed = 2 * (1L << 30) - 2;
        Assert.Equal(16, (largestSeed + AmplificationSeed.PartBits - 1) / AmplificationSeed.PartBits);

        // A full part with every varint at its widest for such a seed: block id and key length near the limits.
        var seed = new PackedBits(AmplificationSeed.PartBits + 64);
        int length = new AmplificationSeed(long.MaxValue, AmplificationSeed.PartBits / 2, seed).Write(new ProtocolWriter()).Length;
        var channel = new TcpClassicalChannelOptions { LocalEnd = ChannelEnd.Alice, ListenEndpoint = new IPEndPoint(IPAddress.Loopback, 0) };
        // Two varints (key and seed length) are a byte longer for the largest seeds than here; 16 bytes is ample room.
        Assert.True(length + 16 <= channel.MaxMessageBytes, $"a part takes {length} bytes, the channel carries {channel.MaxMessageBytes}");
        Assert.True(length < channel.MaxMessageBytes / 15, "a part is about a sixteenth of the channel's limit");
    }
}
