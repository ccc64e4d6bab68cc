using Qkd.Core.Random;

namespace Qkd.Core.Tests.Randomness;

public class SecureRandomSourceTests
{
    [Fact]
    public void Two_instances_give_different_streams()
    {
        using var a = new SecureRandomSource();
        using var b = new SecureRandomSource();
        var x = new byte[4096];
        var y = new byte[4096];
        a.Fill(x);
        b.Fill(y);
        Assert.NotEqual(x, y);
        // And neither is a constant stream.
        Assert.True(x.Distinct().Count() > 200);
    }

    [Fact]
    public void Dispose_zeroes_the_key_and_buffered_keystream_and_later_use_throws()
    {
        var source = new SecureRandomSource();
        source.NextUInt64();
        Assert.False(source.KeyMaterialIsZero);
        source.Dispose();
        Assert.True(source.KeyMaterialIsZero);
        Assert.Throws<ObjectDisposedException>(() => source.NextUInt64());
        Assert.Throws<ObjectDisposedException>(() => source.Fill(new byte[1024]));
    }

    [Fact]
    public void Bulk_fill_is_uniform_and_never_repeats_the_buffered_words()
    {
        using var source = new SecureRandomSource();
        // Odd sizes mix the buffered path with the direct chunks; a keystream word used twice would show as repeats.
        var bytes = new byte[1 << 20];
        int offset = 0;
        foreach (int size in new[] { 3, 517, 1024, 8, 100_000, 5 })
        {
            source.Fill(bytes.AsSpan(offset, size));
            offset += size;
        }
        source.Fill(bytes.AsSpan(offset));
        var words = new HashSet<ulong>();
        for (int i = 0; i + 8 <= bytes.Length; i += 8) Assert.True(words.Add(BitConverter.ToUInt64(bytes, i)));
        long ones = bytes.Sum(b => (long)System.Numerics.BitOperations.PopCount(b));
        double n = bytes.Length * 8.0;
        Assert.InRange(ones, n / 2 - 5 * Math.Sqrt(n / 4), n / 2 + 5 * Math.Sqrt(n / 4));
    }

    [Fact]
    public void Bounded_integers_stay_in_range()
    {
        using var source = new SecureRandomSource();
        IRandomSource random = source;
        var seen = new bool[7];
        for (int i = 0; i < 10_000; i++) seen[random.NextInt(7)] = true;
        Assert.All(seen, Assert.True);
        double d = random.NextDouble();
        Assert.InRange(d, 0, 1);
    }
}
