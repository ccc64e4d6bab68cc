using CsCheck;
using Qkd.Core;
using Qkd.Core.Symbols;

namespace Qkd.Calibration.Tests;

public sealed class QberTallyTests
{
    [Fact]
    public void Only_matching_bases_are_sifted_and_differing_bits_are_errors()
    {
        var sent = new SeededSymbolSource(5, new SymbolDistribution(0.5, [1, 0, 0]));
        Gen.Select(Gen.Long[0, 1_000_000].Array[0, 500], Gen.Double[0, 0.5], Gen.Int).Sample((pulses, errorRate, seed) =>
        {
            var random = new Random(seed);
            var detections = pulses.Select(p =>
            {
                var symbol = sent.SymbolAt(p);
                var basis = random.Next(2) == 0 ? Basis.Z : Basis.X;
                byte bit = basis == symbol.Basis && random.NextDouble() < errorRate ? (byte)(1 - symbol.Bit) : symbol.Bit;
                return new Detection(p, basis, basis == symbol.Basis ? bit : (byte)random.Next(2));
            }).ToArray();

            var tally = new QberTally();
            tally.Add(detections.AsSpan(0, detections.Length / 2), sent);
            tally.Add(detections.AsSpan(detections.Length / 2), sent);

            foreach (var basis in new[] { Basis.Z, Basis.X })
            {
                var sifted = detections.Where(d => d.Basis == basis && sent.SymbolAt(d.PulseIndex).Basis == basis).ToList();
                long errors = sifted.Count(d => sent.SymbolAt(d.PulseIndex).Bit != d.Bit);
                if (tally.Sifted(basis) != sifted.Count || tally.Errors(basis) != errors) return false;
                double qber = tally.Qber(basis);
                if (sifted.Count == 0 ? !double.IsNaN(qber) : qber != (double)errors / sifted.Count) return false;
            }
            return true;
        });
    }

    [Fact]
    public void Before_any_sifted_bit_there_is_no_qber()
    {
        var tally = new QberTally();
        Assert.True(double.IsNaN(tally.Qber(Basis.Z)));
        Assert.Equal(0, tally.Sifted(Basis.X));
    }
}
