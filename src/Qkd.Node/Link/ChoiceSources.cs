using Qkd.Core.Random;
using Qkd.Core.Symbols;

namespace Qkd.Node.Link;

/// <summary>
/// The randomness of every choice an eavesdropper must not predict, for one run or session: Alice's symbols (basis,
/// bit, intensity), her distiller's draws (verification hash keys, Cascade schedule seeds) and Toeplitz seeds, and Bob's
/// random assignment of multi-clicks (squashing: a predictable assignment lets a bright-pulse intercept-resend attack
/// pass with no errors). <see cref="Secure"/> is the default: fresh keys from the OS CSPRNG that never leave the
/// process and are zeroed on <see cref="Dispose"/>. <see cref="Keyed"/> takes the keys from an entropy source (a node's
/// QRNG mixed with the OS CSPRNG) and re-keys Alice's symbols every epoch. <see cref="Seeded"/> is for emulation and
/// tests only: anyone who knows the seed can compute the whole key.
/// </summary>
public sealed class ChoiceSources : IDisposable
{
    private readonly IEntropySource? _entropy;
    private readonly int _epochPulsesLog2;
    private readonly List<BasisChoices> _bases = [];

    private ChoiceSources(ISymbolSource symbols, IRandomSource distiller, IRandomSource toeplitzSeeds, IRandomSource squashing, ulong? seed,
        IEntropySource? entropy = null, int epochPulsesLog2 = RekeyedSymbolSource.DefaultEpochPulsesLog2)
    {
        _entropy = entropy;
        _epochPulsesLog2 = epochPulsesLog2;
        Symbols = symbols;
        Distiller = distiller;
        ToeplitzSeeds = toeplitzSeeds;
        Squashing = squashing;
        Seed = seed;
    }

    /// <summary>What to say wherever a seeded run or session reports itself.</summary>
    public const string SeededWarning = "seeded choices: the symbols, squashing and distiller randomness follow from the seed, so the keys are NOT secret (emulation and tests only)";

    public ISymbolSource Symbols { get; }

    /// <summary>Alice's distiller's random source (hash keys, Cascade schedule seeds).</summary>
    public IRandomSource Distiller { get; }

    /// <summary>Alice's Toeplitz seeds for privacy amplification.</summary>
    public IRandomSource ToeplitzSeeds { get; }

    /// <summary>Bob's random assignment of multi-clicks.</summary>
    public IRandomSource Squashing { get; }

    /// <summary>The seed the choices follow from; null when they come from the OS CSPRNG.</summary>
    public ulong? Seed { get; }

    public bool IsSeeded => Seed is not null;

    /// <summary>Fresh secret keys from the OS CSPRNG for every source.</summary>
    public static ChoiceSources Secure(LinkSettings settings) =>
        new(new SecureSymbolSource(settings.SymbolDistribution()), new SecureRandomSource(), new SecureRandomSource(), new SecureRandomSource(), null);

    /// <summary>
    /// Every choice from named streams of <paramref name="seed"/>: reproducible, and not secret. The streams are those
    /// seeded runs always used, so a seeded run gives the key it gave before.
    /// </summary>
    public static ChoiceSources Seeded(LinkSettings settings, ulong seed) =>
        new(EmulatedSetup.AliceSymbols(settings, seed), Xoshiro256StarStar.ForStream(seed, "alice-distiller"),
            Xoshiro256StarStar.ForStream(seed, "alice-distiller/toeplitz-seed"), Xoshiro256StarStar.ForStream(seed, "bob-squashing"), seed);

    /// <summary>Seeded when <paramref name="insecureSeed"/> is given, secure otherwise.</summary>
    public static ChoiceSources For(LinkSettings settings, ulong? insecureSeed) =>
        insecureSeed is ulong seed ? Seeded(settings, seed) : Secure(settings);

    /// <summary>
    /// Seeded when <paramref name="insecureSeed"/> is given; else keyed from <paramref name="entropy"/> when there is one
    /// (<see cref="Keyed"/>: a QRNG mixed with the OS CSPRNG); else <see cref="Secure"/>.
    /// </summary>
    /// <exception cref="EntropySourceUnavailableException">The entropy source is not healthy: no session may start.</exception>
    public static ChoiceSources For(LinkSettings settings, ulong? insecureSeed, IEntropySource? entropy, long emittedPulses = long.MaxValue,
        int epochPulsesLog2 = RekeyedSymbolSource.DefaultEpochPulsesLog2) =>
        insecureSeed is ulong seed ? Seeded(settings, seed)
        : entropy is null ? Secure(settings)
        : Keyed(settings, entropy, emittedPulses, epochPulsesLog2);

    /// <summary>
    /// Every source keyed from <paramref name="entropy"/>: Alice's symbols by a key schedule, one fresh key every
    /// 2^<paramref name="epochPulsesLog2"/> pulses (<see cref="RekeyedSymbolSource"/>), and the distiller's, Toeplitz and
    /// squashing sources with 256 bits each. Refused at once while the source is not healthy; the symbols refuse to emit
    /// as soon as it fails later.
    /// </summary>
    /// <param name="emittedPulses">The session's emission length: symbol lookups beyond it are refused.</param>
    /// <exception cref="EntropySourceUnavailableException">The entropy source is not healthy.</exception>
    public static ChoiceSources Keyed(LinkSettings settings, IEntropySource entropy, long emittedPulses = long.MaxValue,
        int epochPulsesLog2 = RekeyedSymbolSource.DefaultEpochPulsesLog2)
    {
        ArgumentNullException.ThrowIfNull(entropy);
        if (!entropy.IsHealthy) throw new EntropySourceUnavailableException(entropy.Description, "start a session", entropy.Alarm);
        var created = new List<IDisposable>();
        try
        {
            var symbols = new RekeyedSymbolSource(settings.SymbolDistribution(), entropy, epochPulsesLog2, emittedPulses);
            created.Add(symbols);
            var distiller = Add(SecureRandomSource.FromEntropy(entropy));
            var toeplitz = Add(SecureRandomSource.FromEntropy(entropy));
            var squashing = Add(SecureRandomSource.FromEntropy(entropy));
            return new ChoiceSources(symbols, distiller, toeplitz, squashing, null, entropy, epochPulsesLog2);
        }
        catch
        {
            foreach (IDisposable source in created) source.Dispose();
            throw;
        }

        SecureRandomSource Add(SecureRandomSource source)
        {
            created.Add(source);
            return source;
        }
    }

    /// <summary>
    /// Bob's basis choices for an active receiver (P(Z) = <paramref name="probabilityZ"/>), of the same kind as the other
    /// choices: a fresh CSPRNG key, keys from the entropy source re-keyed every epoch, or a named stream of the seed.
    /// Disposed (keys zeroed) with these sources.
    /// </summary>
    /// <param name="length">Pattern indices that will be looked up (the keyed source refuses any beyond).</param>
    public BasisChoices ReceiverBases(double probabilityZ, long length = long.MaxValue)
    {
        var distribution = BasisChoices.DistributionFor(probabilityZ);
        BasisChoices bases = Seed is ulong seed ? new BasisChoices(new SeededSymbolSource(SplitMix64.Mix(seed ^ 0xB0B_BA5E5), distribution))
            : _entropy is null ? BasisChoices.Secure(probabilityZ)
            : new BasisChoices(new RekeyedSymbolSource(distribution, _entropy, _epochPulsesLog2, length));
        _bases.Add(bases);
        return bases;
    }

    /// <summary>Zeroes the secure sources' keys (the seeded ones hold nothing secret).</summary>
    public void Dispose()
    {
        foreach (BasisChoices bases in _bases) bases.Dispose();
        (Symbols as IDisposable)?.Dispose();
        (Distiller as IDisposable)?.Dispose();
        (ToeplitzSeeds as IDisposable)?.Dispose();
        (Squashing as IDisposable)?.Dispose();
    }
}
