using System.Globalization;
using System.Text;
using Qkd.Distillation.ParameterEstimation;

namespace Qkd.Distillation.Tests.ParameterEstimation;

/// <summary>
/// Prints the table of src/Qkd.Distillation/README.md, "Finite-key analyses" (key per pulse on the default link, the
/// GYS-like link's ratios to the asymptotic rate and reach, every analysis), to the test output and to
/// qkd-finite-key-figures.txt in the temporary directory. The assertions that matter are in
/// <see cref="DefaultAnalysisChoiceTests"/> and <see cref="GysLinkFiniteKeyTests"/>; this only checks the table is sane.
/// </summary>
public class FiniteKeyFiguresTests
{
    [Fact]
    public void Table()
    {
        var c = CultureInfo.InvariantCulture;
        var o = new StringBuilder();
        var defaultLink = new DecoyLinkModel(0.25 * Math.Pow(10, -0.15), 1 - Math.Pow(1 - 1e-6, 4), 0.01, 0.2,
            DecoyLinkModel.DefaultMu, DecoyLinkModel.DefaultP, 0.75, 0.75, 1.05);
        o.AppendLine(c, $"default link, 25 km, block 2^23: asymptotic {defaultLink.AsymptoticRatePerPulse(25):E4} bits/pulse");
        foreach (var kind in FiniteKeyAnalyses.All)
        {
            double rate = defaultLink.FiniteRatePerPulse(FiniteKeyAnalyses.For(kind), 25, 1L << 23);
            Assert.InRange(rate, 0, defaultLink.AsymptoticRatePerPulse(25));
            o.AppendLine(c, $"  {FiniteKeyAnalyses.Name(kind),-18} {rate:E4}");
        }
        var links = new[]
        {
            ("GYS-like, built-in settings", DecoyLinkModel.Gys(DecoyLinkModel.DefaultMu, DecoyLinkModel.DefaultP, aliceProbabilityZ: 0.75)),
            ("GYS-like, optimised settings", DecoyLinkModel.Gys([0.331, 0.150, 0.0], [0.638, 0.269, 0.093], aliceProbabilityZ: 0.56)),
        };
        foreach (var (name, link) in links)
        {
            o.AppendLine(c, $"{name}: key / asymptotic at 50 km (blocks 2^23, 2^24, 2^25, 2^26), at 100 km (2^23), reach (2^23)");
            foreach (var kind in FiniteKeyAnalyses.All)
            {
                var analysis = FiniteKeyAnalyses.For(kind);
                double Ratio(double km, long block) => link.FiniteRatePerPulse(analysis, km, block) / link.AsymptoticRatePerPulse(km);
                o.AppendLine(c, $"  {FiniteKeyAnalyses.Name(kind),-18} {Ratio(50, 1L << 23):F3} {Ratio(50, 1L << 24):F3} {Ratio(50, 1L << 25):F3} {Ratio(50, 1L << 26):F3}" +
                    $"   {Ratio(100, 1L << 23):F3}   {link.ReachKm(analysis, 1L << 23)} km");
                Assert.InRange(Ratio(50, 1L << 23), 0, 1);
            }
        }
        TestContext.Current.TestOutputHelper?.WriteLine(o.ToString());
        File.WriteAllText(Path.Combine(Path.GetTempPath(), "qkd-finite-key-figures.txt"), o.ToString());
    }
}
