using System.Numerics;
using CsCheck;
using Qkd.Distillation.ErrorCorrection.Ldpc;

namespace Qkd.Distillation.Tests.ErrorCorrection.Ldpc;

/// <summary>The decoder's own phi(x) = -ln tanh(x/2) (its exp and log polynomials) against the exact one in double.</summary>
public class LayeredDecoderPhiTests
{
    [Fact]
    public void Phi_matches_minus_ln_tanh_half_over_the_decoder_s_range()
    {
        Gen.OneOf(Gen.Float[1e-4f, 60f], Gen.Float[1e-4f, 1e-2f]).Array[Vector<float>.Count].Sample(xs =>
        {
            var phi = LayeredDecoder.Phi(new Vector<float>(xs));
            for (int i = 0; i < xs.Length; i++)
            {
                double exact = -Math.Log(Math.Tanh(xs[i] / 2.0));
                // Float rounding of 1 - e^-x dominates near 0 (relative 1e-4 at x = 1e-4), absolute 1e-6 in the tail.
                Assert.True(Math.Abs(phi[i] - exact) <= 1e-4 * exact + 1e-6, $"phi({xs[i]}) = {phi[i]}, exact {exact}.");
            }
        });
    }
}
