using System.Buffers;

namespace Qkd.Core.Symbols;

/// <summary>
/// Bob's basis choices as the basis field of a symbol source whose only intensity is the signal: the secure, keyed
/// and seeded sources of Alice's symbols serve Bob too (<see cref="SecureSymbolSource"/>: a fresh 256-bit key from the
/// OS CSPRNG, the basis of slot i a pure function of key and i, O(1) memory, zeroed on <see cref="Dispose"/>).
/// </summary>
/// <remarks>
/// <see cref="BasisAt"/> is thread-safe when the underlying source is (the secure and seeded ones are); <see cref="FillPacked"/>
/// uses a scratch buffer and serves one streaming thread.
/// </remarks>
public sealed class BasisChoices : IBasisChoices, IDisposable
{
    private const int ScratchBytes = 1 << 15;

    private readonly ISymbolSource _symbols;
    private byte[]? _scratch;

    /// <param name="symbols">A source made with <see cref="DistributionFor"/> (only its basis field is used).</param>
    public BasisChoices(ISymbolSource symbols)
    {
        _symbols = symbols ?? throw new ArgumentNullException(nameof(symbols));
        ProbabilityZ = symbols.Distribution.ProbabilityZ;
    }

    /// <summary>The symbol distribution whose basis field is Bob's choice with P(Z) = <paramref name="probabilityZ"/>.</summary>
    public static SymbolDistribution DistributionFor(double probabilityZ) => new(probabilityZ, [1.0, 0.0, 0.0]);

    /// <summary>Choices under a fresh secret key from the OS CSPRNG.</summary>
    public static BasisChoices Secure(double probabilityZ) => new(new SecureSymbolSource(DistributionFor(probabilityZ)));

    /// <summary>Reproducible choices from <paramref name="seed"/>: for emulation and tests only (not secret).</summary>
    public static BasisChoices Seeded(double probabilityZ, ulong seed) => new(new SeededSymbolSource(seed, DistributionFor(probabilityZ)));

    public double ProbabilityZ { get; }

    public Basis BasisAt(long index) => _symbols.SymbolAt(index).Basis;

    public void FillPacked(long firstIndex, Span<byte> packed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstIndex);
        byte[] scratch = _scratch ??= GC.AllocateUninitializedArray<byte>(ScratchBytes);
        long index = firstIndex;
        int done = 0;
        while (done < packed.Length)
        {
            // Four nibble bytes (eight symbols) per basis byte.
            int bytes = Math.Min(packed.Length - done, ScratchBytes / 4);
            Span<byte> nibbles = scratch.AsSpan(0, 4 * bytes);
            _symbols.FillPacked(index, nibbles);
            for (int j = 0; j < bytes; j++)
            {
                // Bit 0 of each nibble is the basis: bits 0 and 4 of each of the four bytes.
                uint word = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(nibbles.Slice(4 * j, 4));
                uint bases = word & 0x11111111u;
                // Gather bits 0,4,8,...,28 into bits 0..7.
                bases = (bases | (bases >> 3)) & 0x03030303u;
                bases = (bases | (bases >> 6)) & 0x000F000Fu;
                bases = (bases | (bases >> 12)) & 0xFFu;
                packed[done + j] = (byte)bases;
            }
            nibbles.Clear();
            done += bytes;
            index += 8L * bytes;
        }
    }

    /// <summary>Zeroes the underlying source's key (secure and keyed sources).</summary>
    public void Dispose() => (_symbols as IDisposable)?.Dispose();
}
