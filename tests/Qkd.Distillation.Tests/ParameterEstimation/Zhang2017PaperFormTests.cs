using Qkd.Distillation.ParameterEstimation;

namespace Qkd.Distillation.Tests.ParameterEstimation;

/// <summary>
/// Zhang, Zhao, Razavi, Ma, PRA 95, 012333 (2017) print their bounds on the expected value E of an observed count x as
/// E^L = x / (1 + delta1) and E^U = x / (1 - delta2), with delta1 and delta2 the solutions of
/// <code>
/// [ e^delta1 / (1 + delta1)^(1 + delta1) ]^(x / (1 + delta1)) = eps,     [ e^-delta2 / (1 - delta2)^(1 - delta2) ]^(x / (1 - delta2)) = eps
/// </code>
/// (eps the failure probability of each side; the paper splits its total into the two sides). The paper gives only plots
/// for its key rates, and its text could not be read from where this was written, so this is the value of the paper's
/// own bound formula: the transcendental equations are solved here by bisection on delta, independently of
/// <see cref="ChernoffBound"/> (which finds the roots of the relative entropy D(x || E) = ln(1/eps)), and both must agree.
/// </summary>
public class Zhang2017PaperFormTests
{
    /// <summary>ln of the paper's left-hand side for the lower bound (delta &gt; 0) or the upper one (0 &lt; delta &lt; 1).</summary>
    private static double LogSide(double x, double delta, bool lower) => lower
        ? x / (1 + delta) * (delta - (1 + delta) * Math.Log(1 + delta))
        : x / (1 - delta) * (-delta - (1 - delta) * Math.Log(1 - delta));

    /// <summary>Both sides fall from 0 as delta grows: bisect for ln(eps).</summary>
    private static double SolveDelta(double x, double epsilon, bool lower)
    {
        double low = 0, high = lower ? 1.0 : 1 - 1e-15;
        if (lower) while (LogSide(x, high, true) > Math.Log(epsilon)) high *= 2;
        for (int i = 0; i < 400; i++)
        {
            double mid = 0.5 * (low + high);
            if (LogSide(x, mid, lower) > Math.Log(epsilon)) low = mid; else high = mid;
        }
        return 0.5 * (low + high);
    }

    [Theory]
    [InlineData(3.0, 1e-3)]
    [InlineData(120.0, 1e-10 / 21)]
    [InlineData(25_000.0, 1e-10 / 21)]
    [InlineData(6.4e6, 1e-10 / 21)]
    public void The_bounds_are_the_papers_delta_form(double x, double epsilon)
    {
        double paperLower = x / (1 + SolveDelta(x, epsilon, lower: true));
        double paperUpper = x / (1 - SolveDelta(x, epsilon, lower: false));
        Assert.Equal(paperLower, ChernoffBound.LowerMean(x, epsilon), 1e-9 * paperUpper);
        Assert.Equal(paperUpper, ChernoffBound.UpperMean(x, epsilon), 1e-9 * paperUpper);
    }

    [Fact]
    public void At_a_block_size_the_width_is_about_sqrt_2_x_ln_1_over_eps_and_a_fifth_of_Hoeffdings()
    {
        // Why the bound gains: the fluctuation of a class scales with the class, not with the whole basis (Hoeffding).
        // A decoy class of 1e5 counts among 1e7 detections of its basis, eps = 1e-10/21.
        double x = 1e5, epsilon = 1e-10 / 21, width = Math.Sqrt(2 * x * Math.Log(1 / epsilon));
        Assert.InRange((ChernoffBound.UpperMean(x, epsilon) - x) / width, 1.0, 1.05);
        Assert.InRange((x - ChernoffBound.LowerMean(x, epsilon)) / width, 0.95, 1.0);
        Assert.True(ChernoffBound.UpperMean(x, epsilon) - x < 0.25 * FiniteSizeStatistics.HoeffdingDeviation(1e7, epsilon));
    }
}
