using CsCheck;
using Qkd.Core.Bits;
using Qkd.Distillation.ErrorCorrection;

namespace Qkd.Distillation.Tests.ErrorCorrection;

public class CascadeScheduleTests
{
    [Fact]
    public void Every_pass_order_is_a_permutation_and_blocks_cover_the_frame()
    {
        Gen.Select(Gen.Int[64, 12_000], Gen.Double[0.001, 0.25], Gen.ULong, Gen.Bool).Sample((length, qber, seed, shuffle) =>
        {
            var options = CascadeOptions.Default with
            {
                Permutation = shuffle ? CascadePermutationKind.Shuffle : CascadePermutationKind.TransposeMix,
            };
            var schedule = CascadeSchedule.Create(length, qber, seed, options);
            int half = (length + 1) / 2;
            for (int pass = 0; pass < schedule.PassCount; pass++)
            {
                int k = schedule.BlockSize(pass);
                if (k < 1 || k > half) return false;
                if ((long)schedule.BlockCount(pass) * k < length || (long)(schedule.BlockCount(pass) - 1) * k >= length) return false;
                if (pass > 0 && k < schedule.BlockSize(pass - 1)) return false;
            }
            // The growing passes plus two final ones (the remaining final passes are built the same way).
            for (int pass = 0; pass < options.GrowingPassCount + 2; pass++)
                if (!IsPermutation(schedule.Permutation(pass))) return false;
            return true;
        }, iter: 60);
    }

    [Theory]
    [InlineData(64, CascadePermutationKind.TransposeMix)]
    [InlineData(4_095, CascadePermutationKind.TransposeMix)]
    [InlineData(4_096, CascadePermutationKind.TransposeMix)]
    [InlineData(4_160, CascadePermutationKind.TransposeMix)]
    [InlineData(70_001, CascadePermutationKind.TransposeMix)]
    [InlineData(1_000_003, CascadePermutationKind.TransposeMix)]
    [InlineData(70_001, CascadePermutationKind.Shuffle)]
    public void Applying_a_pass_order_moves_every_bit_where_the_index_maps_say(int length, CascadePermutationKind kind)
    {
        var schedule = CascadeSchedule.Create(length, 0.03, 42, CascadeOptions.Default with { Permutation = kind });
        var frame = CascadeTestFrames.RandomFrame(length, 17);
        var permuted = new ulong[PackedBits.WordCount(length)];
        foreach (int pass in new[] { 0, 1, schedule.PassCount - 1 })
        {
            var permutation = schedule.Permutation(pass);
            Assert.True(IsPermutation(permutation), $"pass {pass}");
            Array.Fill(permuted, ulong.MaxValue); // Apply must overwrite everything, including the tail
            permutation.Apply(frame.Words, permuted);
            var bits = PackedBits.FromWords((ulong[])permuted.Clone(), length);
            for (int i = 0; i < length; i++)
                if (bits[i] != frame[permutation.ToOriginal(i)])
                    Assert.Fail($"pass {pass}: position {i} holds the wrong bit");
            int used = length & 63;
            if (used != 0) Assert.Equal(0UL, permuted[^1] >> used);
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_schedule_on_both_sides()
    {
        var alice = CascadeSchedule.Create(50_000, 0.02, 0xC0FFEE, CascadeOptions.Default);
        var bob = CascadeSchedule.Create(50_000, 0.02, 0xC0FFEE, CascadeOptions.Default);
        var other = CascadeSchedule.Create(50_000, 0.02, 0xC0FFEF, CascadeOptions.Default);
        Assert.Equal(alice.PassCount, bob.PassCount);
        for (int pass = 0; pass < alice.PassCount; pass += 7)
        {
            Assert.Equal(alice.BlockSize(pass), bob.BlockSize(pass));
            Assert.Equal(Order(alice.Permutation(pass)), Order(bob.Permutation(pass)));
            Assert.NotEqual(Order(alice.Permutation(pass)), Order(other.Permutation(pass)));
        }
        // Passes draw independent orders.
        Assert.NotEqual(Order(alice.Permutation(1)), Order(alice.Permutation(2)));
    }

    [Theory]
    [InlineData(0.02, 64)]   // 2^ceil(log2 50 - 0.5)
    [InlineData(0.01, 128)]
    [InlineData(0.005, 256)]
    [InlineData(0.05, 16)]
    [InlineData(0.08, 16)]
    [InlineData(0.25, 4)]
    public void First_blocks_follow_the_qber(double qber, int firstBlock)
    {
        var schedule = CascadeSchedule.Create(1_000_000, qber, 1, CascadeOptions.Default);
        Assert.Equal(firstBlock, schedule.BlockSize(0));
        Assert.Equal(firstBlock * 8, schedule.BlockSize(1));
        Assert.Equal(500_000, schedule.BlockSize(schedule.PassCount - 1));
        Assert.True(schedule.IsFinalPass(CascadeOptions.Default.GrowingPassCount));
        Assert.False(schedule.IsFinalPass(CascadeOptions.Default.GrowingPassCount - 1));
    }

    [Fact]
    public void Final_passes_read_a_random_half_first()
    {
        var schedule = CascadeSchedule.Create(10_001, 0.02, 9, CascadeOptions.Default);
        int final = CascadeOptions.Default.GrowingPassCount;
        Assert.Equal(5_001, schedule.BlockSize(final));
        Assert.Equal(2, schedule.BlockCount(final));
        // Within each half the frame order is kept (the binary search works on ranks).
        var permutation = schedule.Permutation(final);
        for (int i = 1; i < 10_001; i++)
            if (i != 5_001) Assert.True(permutation.ToOriginal(i) > permutation.ToOriginal(i - 1));
    }

    [Theory]
    [InlineData(63)]
    [InlineData(0)]
    [InlineData(-5)]
    public void Too_short_frames_are_rejected(int length)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => CascadeSchedule.Create(length, 0.02, 1, CascadeOptions.Default));
        Assert.Equal("frameLength", e.ParamName);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-0.01)]
    [InlineData(0.2501)]
    [InlineData(0.5)]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    public void Qber_estimates_outside_the_supported_range_are_rejected(double qber)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => CascadeSchedule.Create(1_000, qber, 1, CascadeOptions.Default));
        Assert.Equal("qberEstimate", e.ParamName);
    }

    [Fact]
    public void Invalid_options_are_rejected_naming_the_setting()
    {
        Assert.Throws<ArgumentNullException>(() => CascadeSchedule.Create(1_000, 0.02, 1, null!));
        Assert.Equal(nameof(CascadeOptions.BlockGrowthExponent), Assert.Throws<ArgumentOutOfRangeException>(
            () => CascadeSchedule.Create(1_000, 0.02, 1, CascadeOptions.Default with { BlockGrowthExponent = 0 })).ParamName);
        Assert.Equal(nameof(CascadeOptions.MaximumFinalPassCount), Assert.Throws<ArgumentOutOfRangeException>(
            () => (CascadeOptions.Default with { ConfirmingPassCount = 20, MaximumFinalPassCount = 10 }).Validate()).ParamName);
        Assert.Equal(nameof(CascadeOptions.FirstBlockExponentOffset), Assert.Throws<ArgumentOutOfRangeException>(
            () => (CascadeOptions.Default with { FirstBlockExponentOffset = double.NaN }).Validate()).ParamName);
        Assert.Equal(nameof(CascadeOptions.Permutation), Assert.Throws<ArgumentOutOfRangeException>(
            () => (CascadeOptions.Default with { Permutation = (CascadePermutationKind)7 }).Validate()).ParamName);
    }

    [Fact]
    public void Passes_and_indices_outside_the_schedule_are_rejected()
    {
        var schedule = CascadeSchedule.Create(1_000, 0.02, 1, CascadeOptions.Default);
        Assert.Throws<ArgumentOutOfRangeException>(() => schedule.BlockSize(-1));
        Assert.Throws<ArgumentOutOfRangeException>(() => schedule.Permutation(schedule.PassCount));
        Assert.Throws<ArgumentOutOfRangeException>(() => schedule.Permutation(0).ToOriginal(1_000));
        Assert.Throws<ArgumentOutOfRangeException>(() => schedule.Permutation(0).ToPermuted(-1));
        Assert.Throws<ArgumentException>(() => schedule.Permutation(0).Apply(new ulong[16], new ulong[15]));
    }

    private static int[] Order(CascadePermutation permutation)
    {
        var order = new int[permutation.Length];
        for (int i = 0; i < order.Length; i++) order[i] = permutation.ToOriginal(i);
        return order;
    }

    private static bool IsPermutation(CascadePermutation permutation)
    {
        var seen = new bool[permutation.Length];
        for (int i = 0; i < permutation.Length; i++)
        {
            int original = permutation.ToOriginal(i);
            if (original < 0 || original >= seen.Length || seen[original]) return false;
            seen[original] = true;
            if (permutation.ToPermuted(original) != i) return false;
        }
        return true;
    }
}
