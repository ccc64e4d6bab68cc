using CsCheck;
using Qkd.Core.Bits;

namespace Qkd.Core.Tests;

public class PackedBitsTests
{
    [Fact]
    public void RangeParity_matches_bit_by_bit_xor()
    {
        Gen.Select(Gen.Int[1, 700], Gen.ULong.Array[11], Gen.Int[0, 699], Gen.Int[0, 699])
            .Sample((len, words, a, b) =>
            {
                var bits = PackedBits.FromWords((ulong[])words.Clone(), Math.Min(len, 704));
                long start = Math.Min(a, bits.Length), count = Math.Min(b, bits.Length - start);
                int expected = 0;
                for (long i = start; i < start + count; i++) expected ^= bits.GetBit(i);
                return bits.Parity(start, count) == expected;
            });
    }

    [Fact]
    public void Bytes_round_trip_and_slice_matches_bits()
    {
        Gen.Select(Gen.Int[0, 500], Gen.Int[0, 500]).Sample((len, off) =>
        {
            var rng = new Qkd.Core.Random.Xoshiro256StarStar((ulong)(len * 1000 + off));
            var bits = new PackedBits(len);
            for (int i = 0; i < len; i++) bits.Set(i, (rng.NextUInt64() & 1) == 1);
            var back = PackedBits.FromBytes(bits.ToBytes(), len);
            if (!back.ContentEquals(bits)) return false;
            long start = Math.Min(off, len), count = len - start;
            var slice = bits.Slice(start, count);
            for (long i = 0; i < count; i++) if (slice.Get(i) != bits.Get(start + i)) return false;
            return true;
        });
    }

    [Fact]
    public void Out_of_range_index_names_the_range()
    {
        var bits = new PackedBits(10);
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => bits.Get(10));
        Assert.Contains("0..9", ex.Message);
    }
}

public class PackedBitsCopyTests
{
    [Fact]
    public void CopyFrom_writes_exactly_the_target_range()
    {
        Gen.Select(Gen.Int[0, 400], Gen.Int[0, 300], Gen.ULong).Sample((destLen, srcLen, seed) =>
        {
            srcLen = Math.Min(srcLen, destLen);
            var rng = new Qkd.Core.Random.Xoshiro256StarStar(seed);
            var dest = new PackedBits(destLen);
            var src = new PackedBits(srcLen);
            for (int i = 0; i < destLen; i++) dest.Set(i, (rng.NextUInt64() & 1) == 1);
            for (int i = 0; i < srcLen; i++) src.Set(i, (rng.NextUInt64() & 1) == 1);
            int start = destLen - srcLen == 0 ? 0 : (int)(seed % (ulong)(destLen - srcLen + 1));
            var before = dest.Clone();
            dest.CopyFrom(src, start);
            for (int i = 0; i < destLen; i++)
            {
                bool expected = i >= start && i < start + srcLen ? src.Get(i - start) : before.Get(i);
                if (dest.Get(i) != expected) return false;
            }
            return true;
        });
    }
}

public class TimeTagLayoutTests
{
    [Fact]
    public void Time_tag_is_a_16_byte_blittable_struct()
    {
        Assert.Equal(16, System.Runtime.CompilerServices.Unsafe.SizeOf<Qkd.Core.TimeTags.TimeTag>());
        Assert.False(System.Runtime.CompilerServices.RuntimeHelpers.IsReferenceOrContainsReferences<Qkd.Core.TimeTags.TimeTag>());
        var tag = new Qkd.Core.TimeTags.TimeTag(long.MaxValue - 1, 65535, Qkd.Core.TimeTags.TimeTagKind.OverflowEnd, uint.MaxValue);
        Assert.Equal(long.MaxValue - 1, tag.TimePs);
        Assert.Equal(65535, tag.Channel);
        Assert.Equal(uint.MaxValue, tag.MissedEvents);
    }
}
