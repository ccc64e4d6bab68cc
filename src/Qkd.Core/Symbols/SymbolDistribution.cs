namespace Qkd.Core.Symbols;

/// <summary>
/// The probabilities with which Alice chooses basis and intensity for each pulse. The bit value is always uniform.
/// Converts 64 uniform random bits into a <see cref="PulseSymbol"/> with these probabilities.
/// </summary>
public sealed class SymbolDistribution
{
    private readonly ulong _zThreshold;
    private readonly ulong _signalThreshold;
    private readonly ulong _decoyThreshold;

    /// <param name="probabilityZ">Probability that Alice prepares in the Z (key) basis.</param>
    /// <param name="intensityProbabilities">Probability of Signal, Decoy, Vacuum; must sum to 1.</param>
    public SymbolDistribution(double probabilityZ, ReadOnlySpan<double> intensityProbabilities)
    {
        if (!(probabilityZ > 0 && probabilityZ < 1))
            throw new ArgumentOutOfRangeException(nameof(probabilityZ), probabilityZ, "Z-basis probability must lie strictly between 0 and 1.");
        if (intensityProbabilities.Length != Intensities.Count)
            throw new ArgumentException($"Expected {Intensities.Count} intensity probabilities, got {intensityProbabilities.Length}.", nameof(intensityProbabilities));
        double sum = 0;
        foreach (double p in intensityProbabilities)
        {
            if (!(p >= 0 && p <= 1))
                throw new ArgumentOutOfRangeException(nameof(intensityProbabilities), p, "Each intensity probability must lie in [0, 1].");
            sum += p;
        }
        if (Math.Abs(sum - 1) > 1e-9)
            throw new ArgumentException($"Intensity probabilities must sum to 1, they sum to {sum}.", nameof(intensityProbabilities));

        ProbabilityZ = probabilityZ;
        IntensityProbabilities = intensityProbabilities.ToArray();
        // Thresholds on 32-bit uniforms; resolution 2^-32 is far below any statistical effect we can measure.
        _zThreshold = (ulong)Math.Round(probabilityZ * 4294967296.0);
        _signalThreshold = (ulong)Math.Round(intensityProbabilities[0] * 4294967296.0);
        _decoyThreshold = (ulong)Math.Round((intensityProbabilities[0] + intensityProbabilities[1]) * 4294967296.0);
    }

    public double ProbabilityZ { get; }

    /// <summary>The 32-bit thresholds <see cref="FromRandom"/> compares against (signal, signal+decoy, Z basis), for bulk paths.</summary>
    internal (ulong Signal, ulong Decoy, ulong Z) Thresholds => (_signalThreshold, _decoyThreshold, _zThreshold);

    /// <summary>Probability of each intensity class, indexed by <see cref="Intensity"/>.</summary>
    public IReadOnlyList<double> IntensityProbabilities { get; }

    public double ProbabilityOf(Basis basis) => basis == Basis.Z ? ProbabilityZ : 1 - ProbabilityZ;

    /// <summary>The intensity class encoded by a 32-bit uniform (used alone by samplers that only need the intensity).</summary>
    public Intensity IntensityFrom(ulong random64)
    {
        ulong u = random64 & 0xFFFFFFFFUL;
        return u < _signalThreshold ? Intensity.Signal : u < _decoyThreshold ? Intensity.Decoy : Intensity.Vacuum;
    }

    /// <summary>Maps 64 uniform bits to a symbol: low 32 bits pick the intensity, the next 31 the basis, the top bit the value.</summary>
    public PulseSymbol FromRandom(ulong random64)
    {
        Intensity intensity = IntensityFrom(random64);
        Basis basis = ((random64 >> 32) & 0x7FFFFFFFUL) < (_zThreshold >> 1) ? Basis.Z : Basis.X;
        byte bit = (byte)(random64 >> 63);
        return new PulseSymbol(basis, bit, intensity);
    }

    /// <summary><see cref="FromRandom"/> already packed (<see cref="PulseSymbol.Pack"/>), without branches: the bulk path.</summary>
    public byte PackedFrom(ulong random64)
    {
        ulong u = random64 & 0xFFFFFFFFUL;
        // Intensity 0/1/2 = how many thresholds u is at or above; basis X = 1 when the 31 basis bits are not below Z's.
        ulong intensity = (u >= _signalThreshold ? 1UL : 0UL) + (u >= _decoyThreshold ? 1UL : 0UL);
        ulong basis = ((random64 >> 32) & 0x7FFFFFFFUL) < (_zThreshold >> 1) ? 0UL : 1UL;
        return (byte)(basis | ((random64 >> 63) << 1) | (intensity << 2));
    }
}
