using CsCheck;
using Qkd.Distillation.Messages;
using Qkd.Distillation.PrivacyAmplification;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Tests.Messages;

public class AmplificationSeedTests
{
    [Fact]
    public void Round_trips_and_refuses_every_truncation()
    {
        Gen.Select(Gen.Long[0, long.MaxValue], Gen.Long[0, long.MaxValue], Gen.Bool, Gen.Byte.Array[ToeplitzSeed.SeedBytes]).Sample((blockId, bits, noKey, seed) =>
        {
            long secretBits = noKey ? 0 : Math.Max(1, bits);
            var value = new AmplificationSeed(blockId, secretBits, secretBits > 0 ? seed : ReadOnlyMemory<byte>.Empty);
            byte[] message = value.Write(new ProtocolWriter()).ToArray();

            var back = AmplificationSeed.Read(message);
            Assert.Equal(blockId, back.BlockId);
            Assert.Equal(secretBits, back.SecretBits);
            Assert.Equal(value.Seed.ToArray(), back.Seed.ToArray());

            WireChecks.MalformedIsRejected(message, AmplificationSeed.Type, m => AmplificationSeed.Read(m));
        });
    }

    [Fact]
    public void Wire_format_is_pinned()
    {
        // Block 3, a key of 1000 bits (E8 07), then the 32-byte seed as a byte string (length 20 hex, then 00..1F).
        byte[] seed = Enumerable.Range(0, 32).Select(i => (byte)i).ToArray();
        Assert.Equal("0C03E80720" + "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F",
            WireChecks.Hex(new AmplificationSeed(3, 1000, seed).Write(new ProtocolWriter())));
        // No key: the length 0 and nothing after it.
        Assert.Equal("0C0300", WireChecks.Hex(new AmplificationSeed(3, 0, default).Write(new ProtocolWriter())));
    }

    public static TheoryData<string, string> Malformed => new()
    {
        // a seed of 31 bytes
        { "0C03E8071F" + new string('0', 62), "Toeplitz seed has 31 bytes, expected 32" },
        // a seed of 33 bytes
        { "0C03E80721" + new string('0', 66), "Field 'Toeplitz seed length' is 33, more than the allowed 32" },
        // a seed after a zero length
        { "0C030020" + new string('0', 64), "33 unexpected trailing bytes" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_seeds_are_refused_with_the_reason(string hex, string expected)
    {
        var e = Assert.Throws<ProtocolException>(() => AmplificationSeed.Read(Convert.FromHexString(hex)));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void The_seed_must_match_the_key_length()
    {
        Assert.Throws<ArgumentException>(() => new AmplificationSeed(3, 0, new byte[32]));
        Assert.Throws<ArgumentException>(() => new AmplificationSeed(3, 10, new byte[31]));
        Assert.Throws<ArgumentOutOfRangeException>(() => new AmplificationSeed(3, -1, default));
    }
}
