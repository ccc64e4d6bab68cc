using CsCheck;
using Qkd.Distillation.ErrorCorrection.Ldpc;

namespace Qkd.Distillation.Tests.ErrorCorrection.Ldpc;

/// <summary>The code family: built the same at both ends, girth at least 6, untainted puncturing, a linear syndrome.</summary>
public class QuasiCyclicCodeTests
{
    [Fact]
    public void The_same_profile_and_seed_give_the_same_matrix()
    {
        var profile = LdpcCodeFamily.Profiles[2];
        var a = QuasiCyclicCodeBuilder.Build(profile, 32, 77);
        var b = QuasiCyclicCodeBuilder.Build(profile, 32, 77);
        Assert.Equal(a.BaseEdges, b.BaseEdges);
        for (int e = 0; e < a.BaseEdges; e++)
        {
            Assert.Equal(a.EntryColumn(e), b.EntryColumn(e));
            Assert.Equal(a.EntryShift(e), b.EntryShift(e));
        }
        Assert.Equal(a.PositionOrder, b.PositionOrder);
        Assert.Equal(a.PunctureOrder, b.PunctureOrder);
    }

    // The 0.7-0.9 codes' base matrices are 2x wider, so their circulants are half the family's; at 128 (frames of
    // 23,040 bits and more) there is room for shifts that close no 4-cycle even in the densest one (0.9, check degree 43).
    [Theory]
    [InlineData(0, 64)]
    [InlineData(7, 256)]
    public void The_lift_closes_no_four_cycle_and_the_punctured_set_is_untainted(int profileIndex, int circulant)
    {
        var code = LdpcCodeFamily.Code(profileIndex, circulant);
        int z = code.CirculantSize;
        var checksOf = new List<int>[code.Length];
        var varsOf = new List<int>[code.Checks];
        for (int v = 0; v < code.Length; v++) checksOf[v] = [];
        for (int r = 0; r < code.BaseRows; r++)
            for (int j = 0; j < z; j++)
            {
                varsOf[r * z + j] = [];
                for (int e = code.RowEntryStart(r); e < code.RowEntryEnd(r); e++)
                {
                    int v = code.EntryColumn(e) * z + (j + code.EntryShift(e)) % z;
                    varsOf[r * z + j].Add(v);
                    checksOf[v].Add(r * z + j);
                }
            }
        // No two checks share two variables.
        for (int c = 0; c < code.Checks; c++)
        {
            var seen = new HashSet<int>();
            foreach (int v in varsOf[c])
                foreach (int other in checksOf[v])
                    if (other != c) Assert.True(seen.Add(other), $"Checks {c} and {other} share two variables.");
        }
        // Every check has at most one punctured neighbour, so each punctured variable is recoverable in one step.
        var punctured = new HashSet<int>(code.PunctureOrder);
        Assert.NotEmpty(punctured);
        for (int c = 0; c < code.Checks; c++)
            Assert.True(varsOf[c].Count(punctured.Contains) <= 1);
        Assert.Equal(Enumerable.Range(0, code.Length), code.PositionOrder.Order());
    }

    [Fact]
    public void The_syndrome_is_linear()
    {
        var code = LdpcCodeFamily.Code(1, 64);
        var gen = Gen.Byte[0, 1].Array[code.Length];
        Gen.Select(gen, gen).Sample((x, y) =>
        {
            var sx = new byte[code.Checks];
            var sy = new byte[code.Checks];
            var sxy = new byte[code.Checks];
            code.Syndrome(x, sx);
            code.Syndrome(y, sy);
            code.Syndrome(x.Zip(y, (a, b) => (byte)(a ^ b)).ToArray(), sxy);
            Assert.Equal(sx.Zip(sy, (a, b) => (byte)(a ^ b)).ToArray(), sxy);
        }, iter: 50);
    }

    [Fact]
    public void A_single_flipped_variable_changes_exactly_its_checks()
    {
        var code = LdpcCodeFamily.Code(3, 64);
        Gen.Int[0, code.Length - 1].Sample(v =>
        {
            var x = new byte[code.Length];
            x[v] = 1;
            var syndrome = new byte[code.Checks];
            code.Syndrome(x, syndrome);
            int degree = 0;
            for (int r = 0; r < code.BaseRows; r++)
                for (int e = code.RowEntryStart(r); e < code.RowEntryEnd(r); e++)
                    if (code.EntryColumn(e) == v / code.CirculantSize) degree++;
            Assert.Equal(degree, syndrome.Count(b => b == 1));
        }, iter: 100);
    }

    [Fact]
    public void Decoding_any_word_against_its_own_syndrome_succeeds_first_time_and_reveals_nothing()
    {
        Gen.Select(Gen.Int[1, 5_000], Gen.Double[0.005, 0.2], Gen.ULong).Sample((bits, qber, seed) =>
        {
            var (alice, _, _) = LdpcFrames.Noisy(bits, 0, seed);
            var bob = alice.Clone();
            var plan = LdpcCodeFamily.Plan(bits, qber, LdpcOptions.Default);
            var responder = new LdpcResponder(alice, plan, new Qkd.Core.Random.Xoshiro256StarStar(seed));
            var corrector = new LdpcCorrector(bob, plan, qber);
            corrector.SetSyndrome(responder.Syndrome);
            var decoder = LdpcDecoderPool.Rent(plan.Code);
            try
            {
                // Only the punctured bits are unknown, and untainted ones are recovered in one step each.
                Assert.True(corrector.TryDecode(decoder, LdpcOptions.Default.MaxIterations));
            }
            finally
            {
                LdpcDecoderPool.Return(decoder);
            }
            Assert.Equal(0, corrector.Revealed);
            Assert.True(alice.ContentEquals(bob));
            Assert.Equal(plan.Code.Checks - plan.Punctured, corrector.LeakedBits);
        }, iter: 20);
    }

    [Fact]
    public void Plans_fit_the_codeword_and_reveal_each_variable_once()
    {
        Gen.Select(Gen.Int[1, LdpcCodeFamily.MaximumFrameBits], Gen.Double[0.002, 0.25]).Sample((bits, qber) =>
        {
            var plan = LdpcCodeFamily.Plan(bits, qber, LdpcOptions.Default);
            Assert.Equal(plan.Code.Length, plan.KeyBits + plan.Punctured + plan.Shortened);
            Assert.True(plan.Punctured <= plan.Code.PunctureOrder.Length);
            Assert.Equal(bits, plan.KeyPositions.Length);
            Assert.True(plan.NextRevealCount(0) >= 1);
            var punctured = plan.Code.PositionOrder.Take(plan.Punctured).ToHashSet();
            var key = plan.KeyPositions.ToHashSet();
            Assert.All(Enumerable.Range(0, Math.Min(plan.RevealableBits, 2000)).Select(plan.RevealPosition),
                v => Assert.True(punctured.Contains(v) || key.Contains(v)));
        }, iter: 40);
    }
}
