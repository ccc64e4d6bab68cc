using System.Collections.Concurrent;

namespace Qkd.Distillation.ErrorCorrection.Ldpc;

/// <summary>
/// The mother codes of rate-compatible LDPC reconciliation and the choice of one, with its puncturing and shortening,
/// for a frame. Eight quasi-cyclic mother codes of rates 0.5 to 0.9 share a codeword length of 100 z (base matrices
/// of 100 columns lifted by z, or of 200 columns lifted by z / 2); each family member is lifted with circulants of 64 to 1024 (a power of two), so a frame of up to 90 z key bits rides on a codeword of
/// n = 100 z bits (n = 102,400 and 92,160 key bits at the largest). Codes are built once per process from fixed seeds
/// (<see cref="QuasiCyclicCodeBuilder"/>) and shared: both ends build the same matrices.
/// </summary>
public static class LdpcCodeFamily
{
    /// <summary>Codeword bits per unit of the family's circulant size: n = 100 z for every mother code.</summary>
    public const int BaseColumns = 100;

    /// <summary>Key bits a codeword carries at most: 90 % of its length, the rest being punctured or shortened.</summary>
    public const int KeyColumns = 90;

    public const int MinimumCirculant = 64;
    public const int MaximumCirculant = 1024;

    /// <summary>Key bits of the largest frame (z = 1024).</summary>
    public const int MaximumFrameBits = KeyColumns * MaximumCirculant;

    // The seed of the family: changing it (or a profile) changes every matrix, so it is part of the protocol version.
    private const ulong FamilySeed = 0x4C44_5043_5144_0001UL;

    /// <summary>The mother codes' shapes, lowest rate first.</summary>
    /// <remarks>
    /// Chosen by simulation (<c>dotnet run -c Release --project tests/Qkd.Benchmarks -- ldpc-code</c>, each code at
    /// its own rate, n = 25,600, 4 seeded frames): the smallest f at which 3 or 4 frames in 4 decode is about 1.08 for
    /// 0.5, 1.10 for 0.6, 1.12 for 0.65, 1.06 for 0.7, 1.14 for 0.75, 1.17 for 0.8, 1.15 for 0.85 and 1.29 for 0.9
    /// (the 0.9 code of protocol version 4, 40 x 400 with 66 degree-2 columns, needed about 1.45; a 0.92 code of
    /// 16 x 200 about 1.36, so none is used). Protocol version 5 added 0.65, 0.75 and 0.85 so that a frame is
    /// punctured less (puncturing costs efficiency, shortening hardly any) and replaced the 0.9 code. High rates need
    /// wide base matrices (more rows for the high-degree columns); the 0.9 code is still the weak one.
    /// </remarks>
    public static IReadOnlyList<LdpcCodeProfile> Profiles { get; } =
    [
        new(0.50, 50, 100, [(20, 6), (6, 14), (3, 40), (2, 40)]) { Chain = false },
        new(0.60, 40, 100, [(16, 8), (5, 14), (3, 43), (2, 35)]) { Chain = false },
        new(0.65, 35, 100, [(20, 8), (6, 16), (3, 44), (2, 32)]) { Chain = false },
        new(0.70, 60, 200, [(25, 20), (8, 25), (3, 100), (2, 55)]) { Chain = false },
        new(0.75, 50, 200, [(22, 18), (8, 24), (3, 110), (2, 48)]) { Chain = false },
        new(0.80, 40, 200, [(20, 16), (8, 24), (3, 120), (2, 40)]) { Chain = false },
        new(0.85, 30, 200, [(20, 20), (8, 30), (3, 120), (2, 30)]) { Chain = false },
        new(0.90, 20, 200, [(12, 20), (6, 30), (3, 130), (2, 20)]) { Chain = false },
    ];

    private static readonly ConcurrentDictionary<(int Profile, int Circulant), Lazy<QuasiCyclicCode>> Codes = new();

    /// <summary>Mother code <paramref name="profile"/> (index into <see cref="Profiles"/>) lifted by circulants of <paramref name="circulantSize"/>.</summary>
    public static QuasiCyclicCode Code(int profile, int circulantSize)
    {
        if ((uint)profile >= (uint)Profiles.Count) throw new ArgumentOutOfRangeException(nameof(profile), profile, $"The family has {Profiles.Count} mother codes.");
        if (circulantSize < MinimumCirculant || circulantSize > MaximumCirculant || !int.IsPow2(circulantSize))
            throw new ArgumentOutOfRangeException(nameof(circulantSize), circulantSize, $"Circulants are powers of two from {MinimumCirculant} to {MaximumCirculant}.");
        // Every mother code has n = 100 z bits; one with a wider base matrix (high rates need more base rows for their
        // high-degree columns) has proportionally smaller circulants.
        return Codes.GetOrAdd((profile, circulantSize), key => new Lazy<QuasiCyclicCode>(
            () => QuasiCyclicCodeBuilder.Build(Profiles[key.Profile], key.Circulant * BaseColumns / Profiles[key.Profile].BaseColumns,
                FamilySeed + (ulong)(key.Profile * 64 + int.Log2(key.Circulant))))).Value;
    }

    /// <summary>Frames of a block of <paramref name="keyLength"/> bits: as few as hold it at <see cref="MaximumFrameBits"/> each.</summary>
    public static int FrameCount(long keyLength) => (int)Math.Max(1, (keyLength + MaximumFrameBits - 1) / MaximumFrameBits);

    /// <summary>The smallest circulant whose codeword carries <paramref name="keyBits"/> key bits.</summary>
    public static int CirculantFor(int keyBits)
    {
        if (keyBits < 1 || keyBits > MaximumFrameBits)
            throw new ArgumentOutOfRangeException(nameof(keyBits), keyBits, $"A frame holds 1 to {MaximumFrameBits} key bits.");
        int z = MinimumCirculant;
        while (z * KeyColumns < keyBits) z *= 2;
        return z;
    }

    /// <summary>
    /// The efficiency f at which the family decodes at the first attempt, by QBER: (QBER, f) points, interpolated
    /// linearly in between and held constant outside. Found by simulation for protocol version 5 (the layered
    /// tanh-product decoder, 60 iterations, frames of 92,160 key bits, 10 seeded frames per point, f on a 0.02 grid by
    /// bisection): the smallest f at which all 10 frames decode without a blind round, with the mother code
    /// <see cref="Plan"/> picks (0.9 at 1 %, 0.85 at 1.5 %, 0.8 at 2-3 %, 0.75 at 3.5-4 %, 0.7 at 5 %, 0.65 at 6 %,
    /// 0.6 at 7 %, 0.5 at 8-10 %). It is not monotone: each mother code reaches only part of the range either side of its rate, and
    /// the codes decode unequally well; the bisection assumes a higher f decodes at least as well, which can miss a
    /// lower f served by another code.
    /// The simulation that regenerates it is <c>dotnet run -c Release --project tests/Qkd.Benchmarks -- ldpc-table --parallel</c>
    /// (tests/Qkd.Benchmarks/LdpcEfficiencyTableTool.cs).
    /// Sizing the first syndrome there (rather than below the codes' threshold) spares most frames the blind rounds,
    /// each of which costs a round trip and up to <see cref="LdpcOptions.MaxIterations"/> failed iterations. Part of
    /// the protocol: both ends plan from it.
    /// </summary>
    public static IReadOnlyList<(double Qber, double Efficiency)> DecodableEfficiencyTable { get; } =
    [
        (0.010, 1.32), (0.015, 1.24), (0.020, 1.26), (0.025, 1.18), (0.030, 1.14), (0.035, 1.14), (0.040, 1.10),
        (0.050, 1.10), (0.060, 1.12), (0.070, 1.12), (0.080, 1.12), (0.100, 1.10),
    ];

    /// <summary>f0 at QBER <paramref name="qber"/> from <see cref="DecodableEfficiencyTable"/>.</summary>
    public static double DecodableEfficiency(double qber)
    {
        var table = DecodableEfficiencyTable;
        if (qber <= table[0].Qber) return table[0].Efficiency;
        for (int i = 1; i < table.Count; i++)
        {
            if (qber > table[i].Qber) continue;
            var (q0, f0) = table[i - 1];
            var (q1, f1) = table[i];
            return f0 + (f1 - f0) * (qber - q0) / (q1 - q0);
        }
        return table[^1].Efficiency;
    }

    /// <summary>
    /// The plan for a frame of <paramref name="keyBits"/> bits at QBER estimate <paramref name="qber"/>: a syndrome
    /// worth f0 n h2(q) of leakage (f0 = <see cref="LdpcOptions.InitialEfficiency"/>, by default
    /// <see cref="DecodableEfficiency"/>), from the highest-rate mother code that reaches it by puncturing and
    /// shortening (Elkouss et al. 2010): puncturing a higher-rate code decodes better than shortening a lower-rate
    /// one here (simulation, see <see cref="DecodableEfficiencyTable"/>). When no code reaches the target exactly,
    /// the one whose leakage comes closest. Both ends compute it from the same public numbers.
    /// </summary>
    public static LdpcFramePlan Plan(int keyBits, double qber, LdpcOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!(qber > 0 && qber < 0.5)) throw new ArgumentOutOfRangeException(nameof(qber), qber, "The QBER estimate must lie in (0, 0.5).");
        int z = CirculantFor(keyBits);
        double f0 = options.InitialEfficiency ?? DecodableEfficiency(qber);
        double target = Math.Min(f0 * keyBits * BinaryEntropy.H2(qber), keyBits);
        int best = -1, bestPunctured = 0;
        double bestDistance = double.MaxValue;
        for (int i = 0; i < Profiles.Count; i++)
        {
            var code = Code(i, z);
            int spare = code.Length - keyBits;
            int maxPunctured = Math.Min(code.PunctureOrder.Length, spare);
            // leak = checks - punctured.
            int punctured = (int)Math.Clamp(code.Checks - Math.Ceiling(target), 0, maxPunctured);
            double leak = code.Checks - punctured;
            // Exact reach ties (distance 0 up to rounding): the later, higher-rate code wins.
            double distance = Math.Max(0, Math.Abs(leak - target) - 1);
            if (distance <= bestDistance)
            {
                bestDistance = distance;
                best = i;
                bestPunctured = punctured;
            }
        }
        var chosen = Code(best, z);
        return LdpcFramePlan.Create(chosen, best, keyBits, bestPunctured, qber, options);
    }
}
