using System.Numerics;
using CsCheck;
using Qkd.Distillation.ErrorCorrection.Ldpc;

namespace Qkd.Distillation.Tests.ErrorCorrection.Ldpc;

/// <summary>The decoder's own tanh(x/2) and 2 atanh(p) (its exp and log polynomials) against the exact ones in double.</summary>
public class LayeredDecoderPhiTests
{
    [Fact]
    public void TanhHalf_matches_tanh_over_the_decoder_s_range()
    {
        Gen.OneOf(Gen.Float[0f, 60f], Gen.Float[0f, 1e-2f]).Array[Vector<float>.Count].Sample(xs =>
        {
            var t = LayeredDecoder.TanhHalf(new Vector<float>(xs));
            for (int i = 0; i < xs.Length; i++)
            {
                double exact = Math.Tanh(xs[i] / 2.0);
                // Float rounding of 1 - e^-x: absolute about 1e-7 near 0, relative 1e-6 elsewhere.
                Assert.True(Math.Abs(t[i] - exact) <= 1e-6 * exact + 2e-7, $"tanh({xs[i]}/2) = {t[i]}, exact {exact}.");
            }
        });
    }

    [Fact]
    public void TwoAtanh_matches_atanh_over_the_decoder_s_range()
    {
        Gen.OneOf(Gen.Float[0f, 0.9999f], Gen.Float[0.99f, 1f - 1f / (1 << 23)]).Array[Vector<float>.Count].Sample(ps =>
        {
            var m = LayeredDecoder.TwoAtanh(new Vector<float>(ps));
            for (int i = 0; i < ps.Length; i++)
            {
                double exact = 2 * Math.Atanh(ps[i]);
                // 1 - p is exact in float near 1; 1 + p rounds (relative 6e-8), the polynomials add about 2e-7.
                Assert.True(Math.Abs(m[i] - exact) <= 1e-6 * exact + 1e-6, $"2 atanh({ps[i]}) = {m[i]}, exact {exact}.");
                Assert.True(float.IsFinite(m[i]));
            }
        });
    }
}
