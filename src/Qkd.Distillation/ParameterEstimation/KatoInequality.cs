namespace Qkd.Distillation.ParameterEstimation;

/// <summary>
/// Kato's concentration inequality (G. Kato, "Concentration inequality using unconfirmed knowledge", arXiv:2002.04357),
/// in the form Currás-Lorenzo, Navarrete, Azuma, Kato, Curty, Razavi, npj Quantum Inf. 7, 22 (2021) use for decoy-state
/// estimation. For xi_1..xi_n in [0, 1] with natural filtration F_u, Lambda = sum xi_u and any a, b with b &gt;= |a|
/// fixed before the xi are seen:
/// <code>
/// Pr[ sum E(xi_u | F_(u-1)) &gt;= Lambda + (b + a (2 Lambda/n - 1)) sqrt(n) ] &lt;= exp( -2 (b^2 - a^2) / (1 + 4a/(3 sqrt n))^2 )
/// </code>
/// With a = 0 it is Azuma's (and, for independent variables, Hoeffding's) inequality. A nonzero a bets on where Lambda
/// will land: with a prediction x of Lambda the deviation at Lambda = x shrinks to about sqrt(2 x (1 - x/n) ln(1/eps)),
/// the binomial variance, and a wrong prediction only loosens the bound, never breaks it. The other side follows from the
/// same inequality applied to 1 - xi (<see cref="LowerMean"/>).
/// <para>
/// Choosing a and b. Setting the right-hand side to eps gives b^2 = a^2 + c (1 + k a)^2 with c = ln(1/eps)/2 and
/// k = 4/(3 sqrt n), so b &gt;= |a| holds. The deviation at the prediction, sqrt(n) (b(a) + a l) with l = 2x/n - 1, is
/// convex in a (b(a) is the norm of an affine map); writing A = 1 + c k^2, B = c k and u = A a + B turns b^2 into
/// (u^2 + c)/A, and the minimum is at u = -l sqrt(c / (A - l^2)), a = (u - B)/A: closed form, O(1). This agrees with the
/// minimiser Currás-Lorenzo et al. print (tests check both and a numerical search).
/// </para>
/// The prediction must not depend on the variables it bounds (a, b are fixed beforehand); <see cref="CurrasLorenzo2021Analysis"/>
/// takes it from counts that are independent of them.
/// </summary>
public static class KatoInequality
{
    /// <summary>
    /// The coefficients (a, b) that minimise the upper deviation when Lambda equals <paramref name="predicted"/>, at failure
    /// probability <paramref name="epsilon"/>. Without a prediction (NaN) a = 0: Azuma's inequality.
    /// </summary>
    public static (double A, double B) Coefficients(double trials, double predicted, double epsilon)
    {
        Check(trials, 0, epsilon);
        if (trials == 0) throw new ArgumentOutOfRangeException(nameof(trials), trials, "Kato's coefficients need at least one trial.");
        double c = Math.Log(1 / epsilon) / 2, k = 4 / (3 * Math.Sqrt(trials));
        if (double.IsNaN(predicted)) return (0, Math.Sqrt(c));
        // l = 1 (all successes predicted) puts a on the edge 1 + k a = 0; stop just short of it.
        double l = Math.Clamp(2 * Math.Clamp(predicted, 0, trials) / trials - 1, -1, 1 - 1e-12);
        double bigA = 1 + c * k * k, bigB = c * k;
        double u = -l * Math.Sqrt(c / (bigA - l * l));
        double a = (u - bigB) / bigA;
        return (a, SecondCoefficient(a, trials, epsilon));
    }

    /// <summary>b for a given a so that the failure probability is exactly <paramref name="epsilon"/>: b^2 = a^2 + c (1 + k a)^2.</summary>
    public static double SecondCoefficient(double a, double trials, double epsilon)
    {
        double c = Math.Log(1 / epsilon) / 2, k = 4 / (3 * Math.Sqrt(trials));
        return Math.Sqrt(a * a + c * (1 + k * a) * (1 + k * a));
    }

    /// <summary>exp(-2 (b^2 - a^2) / (1 + 4a/(3 sqrt n))^2): the failure probability of the upper bound with these coefficients.</summary>
    public static double FailureProbability(double trials, double a, double b) =>
        Math.Exp(-2 * (b * b - a * a) / Math.Pow(1 + 4 * a / (3 * Math.Sqrt(trials)), 2));

    /// <summary>(b + a (2 Lambda/n - 1)) sqrt(n): how far above Lambda the sum of expectations may lie (never negative, as b &gt;= |a|).</summary>
    public static double Deviation(double trials, double observed, double a, double b) =>
        Math.Max(0, (b + a * (2 * observed / trials - 1)) * Math.Sqrt(trials));

    /// <summary>
    /// Upper bound on the sum of expectations given <paramref name="observed"/> successes in <paramref name="trials"/>,
    /// failing with probability at most <paramref name="epsilon"/>; <paramref name="predicted"/> (NaN for none) was fixed
    /// independently of the trials. Capped at <paramref name="trials"/>. 0 trials give 0.
    /// </summary>
    public static double UpperMean(double observed, double trials, double predicted, double epsilon)
    {
        Check(trials, observed, epsilon);
        if (trials == 0) return 0;
        var (a, b) = Coefficients(trials, predicted, epsilon);
        return Math.Min(trials, observed + Deviation(trials, observed, a, b));
    }

    /// <summary>The lower bound, from the upper bound of the failures (1 - xi): n - UpperMean(n - Lambda, n, n - x). Never below 0.</summary>
    public static double LowerMean(double observed, double trials, double predicted, double epsilon)
    {
        Check(trials, observed, epsilon);
        if (trials == 0) return 0;
        return Math.Max(0, trials - UpperMean(trials - observed, trials, trials - predicted, epsilon));
    }

    private static void Check(double trials, double observed, double epsilon)
    {
        if (!(trials >= 0) || !double.IsFinite(trials))
            throw new ArgumentOutOfRangeException(nameof(trials), trials, "The number of trials must be finite and non-negative.");
        if (!(observed >= 0 && observed <= trials))
            throw new ArgumentOutOfRangeException(nameof(observed), observed, $"The observed count must lie in [0, {trials}] (the trials).");
        if (!(epsilon > 0 && epsilon < 1))
            throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must lie in (0, 1).");
    }
}
