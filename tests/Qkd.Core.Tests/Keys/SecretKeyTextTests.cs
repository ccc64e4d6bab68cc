using System.Text;
using CsCheck;
using Qkd.Core.Keys;

namespace Qkd.Core.Tests.Keys;

public sealed class SecretKeyTextTests
{
    [Fact]
    public void Any_key_as_hex_in_either_case_with_or_without_one_line_end_reads_back()
    {
        Gen.Select(Gen.Byte.Array[32], Gen.Bool, Gen.Int[0, 2]).Sample((key, upper, end) =>
        {
            string hex = upper ? Convert.ToHexString(key) : Convert.ToHexStringLower(key);
            string text = hex + end switch { 0 => "", 1 => "\n", _ => "\r\n" };
            var read = new byte[32];
            Assert.True(SecretKeyText.TryReadKeyLine(Encoding.ASCII.GetBytes(text), read));
            Assert.Equal(key, read);
        });
    }

    [Fact]
    public void Anything_but_the_exact_digits_is_refused_and_leaves_nothing_in_the_key()
    {
        Gen.Select(Gen.Byte.Array[32], Gen.Int[0, 63], Gen.Char["gxz :-"]).Sample((key, at, bad) =>
        {
            var text = Encoding.ASCII.GetBytes(Convert.ToHexStringLower(key));
            text[at] = (byte)bad;
            var read = new byte[32];
            Assert.False(SecretKeyText.TryReadKeyLine(text, read));
            Assert.All(read, b => Assert.Equal(0, b));
        });
        var ok = Encoding.ASCII.GetBytes(new string('a', 64));
        var key2 = new byte[32];
        Assert.False(SecretKeyText.TryReadKeyLine(ok.AsSpan(0, 62), key2));     // too short
        Assert.False(SecretKeyText.TryReadKeyLine([.. ok, (byte)'a', (byte)'a'], key2)); // too long
        Assert.False(SecretKeyText.TryReadKeyLine([.. ok, (byte)'\n', (byte)'\n'], key2)); // two line ends
        Assert.False(SecretKeyText.TryReadKeyLine([(byte)' ', .. ok], key2));   // leading space
    }

    [Fact]
    public void A_new_key_line_is_hex_and_a_line_end_and_reads_back_to_a_fresh_key_each_time()
    {
        var first = new byte[SecretKeyText.LineLength(32)];
        var second = new byte[SecretKeyText.LineLength(32)];
        SecretKeyText.WriteNewKeyLine(32, first);
        SecretKeyText.WriteNewKeyLine(32, second);
        Assert.Equal((byte)'\n', first[^1]);
        Assert.All(first[..^1], b => Assert.True(char.IsAsciiHexDigitLower((char)b)));
        var key = new byte[32];
        Assert.True(SecretKeyText.TryReadKeyLine(first, key));
        Assert.NotEqual(first, second); // 2^-256 to collide
    }
}
