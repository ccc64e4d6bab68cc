using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Qkd.Core.Random;

namespace Qkd.Core.Symbols;

/// <summary>
/// Alice's symbols for a real (secret) key: the symbol of pulse i is a pure function of a secret 256-bit key and i,
/// through ChaCha20 used as a keyed PRF. Like <see cref="SeededSymbolSource"/> it is the emission log in O(1) memory
/// (the distiller looks up the pulses Bob reports, the modulator streams them in bulk), but nobody can predict the
/// symbols without the key: it comes from the operating system's CSPRNG (<see cref="RandomNumberGenerator"/>), is
/// held in a pinned array inside this object (never written, logged or sent), and is zeroed by <see cref="Dispose"/>
/// at the end of the session, after which every lookup throws.
/// <para>Pulse i takes 64 bits: words 2 (i mod 8) and 2 (i mod 8) + 1 of ChaCha20 block floor(i / 8), mapped by
/// <see cref="SymbolDistribution.FromRandom"/> exactly as the seeded source maps its 64 bits, so the statistics are the
/// configured ones. Thread-safe: lookups read only the key.</para>
/// </summary>
public sealed class SecureSymbolSource : ISymbolSource, IDisposable
{
    /// <summary>Keeps the symbol stream apart from any other stream under the same key (there is none: the key is fresh).</summary>
    private const ulong Nonce = 0x53594D424F4C0001UL; // "SYMBOL" + 1

    private const int PulsesPerBlock = ChaCha20.BlockWords / 2;
    private const int PulsesPerWideBlock = PulsesPerBlock * ChaCha20.WideBlocks;

    private readonly uint[] _key = GC.AllocateArray<uint>(ChaCha20.KeyWords, pinned: true);
    private volatile bool _disposed;

    /// <summary>A source under a fresh key from the OS CSPRNG.</summary>
    public SecureSymbolSource(SymbolDistribution distribution)
    {
        Distribution = distribution ?? throw new ArgumentNullException(nameof(distribution));
        RandomNumberGenerator.Fill(MemoryMarshal.AsBytes(_key.AsSpan()));
    }

    /// <summary>For the tests: a source under a given 32-byte key, to check that symbols are a function of (key, pulse).</summary>
    internal SecureSymbolSource(ReadOnlySpan<byte> key, SymbolDistribution distribution)
    {
        if (key.Length != ChaCha20.KeyWords * sizeof(uint)) throw new ArgumentException("The key is 32 bytes.", nameof(key));
        Distribution = distribution ?? throw new ArgumentNullException(nameof(distribution));
        key.CopyTo(MemoryMarshal.AsBytes(_key.AsSpan()));
    }

    public SymbolDistribution Distribution { get; }

    public PulseSymbol SymbolAt(long pulseIndex) => Distribution.FromRandom(RandomAt(pulseIndex));

    /// <summary>Only the intensity of pulse i (the same 64 bits as <see cref="SymbolAt"/>).</summary>
    public Intensity IntensityAt(long pulseIndex) => Distribution.IntensityFrom(RandomAt(pulseIndex));

    private ulong RandomAt(long pulseIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pulseIndex);
        ObjectDisposedException.ThrowIf(_disposed, this);
        Span<uint> block = stackalloc uint[ChaCha20.BlockWords];
        ChaCha20.Block(_key, (ulong)pulseIndex / PulsesPerBlock, Nonce, block);
        int word = 2 * (int)(pulseIndex % PulsesPerBlock);
        ulong value = block[word] | ((ulong)block[word + 1] << 32);
        block.Clear();
        return value;
    }

    /// <summary>
    /// The modulator's bulk path: the same symbols as <see cref="SymbolAt"/>, packed, 64 pulses (eight ChaCha20 blocks
    /// in 256-bit vectors) at a time, with no allocation.
    /// </summary>
    public void FillPacked(long firstPulse, Span<byte> packed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstPulse);
        ObjectDisposedException.ThrowIf(_disposed, this);
        SymbolDistribution distribution = Distribution;
        Span<uint> words = stackalloc uint[ChaCha20.WideBlocks * ChaCha20.BlockWords];
        long endPulse = firstPulse + 2L * packed.Length;
        long pulse = firstPulse;
        while (pulse < endPulse)
        {
            long wideStart = pulse - pulse % PulsesPerWideBlock;
            ChaCha20.Blocks8(_key, (ulong)wideStart / PulsesPerBlock, Nonce, words);
            long wideEnd = Math.Min(endPulse, wideStart + PulsesPerWideBlock);
            for (; pulse < wideEnd; pulse++)
            {
                int q = (int)(pulse - wideStart);
                byte nibble = distribution.PackedFrom(words[2 * q] | ((ulong)words[2 * q + 1] << 32));
                long offset = pulse - firstPulse;
                if ((offset & 1) == 0) packed[(int)(offset >> 1)] = nibble;
                else packed[(int)(offset >> 1)] |= (byte)(nibble << 4);
            }
        }
        words.Clear();
        // A session that ended while the modulator was still streaming: do not hand out symbols computed from a key
        // that was being zeroed meanwhile.
        ObjectDisposedException.ThrowIf(_disposed, this);
    }

    /// <summary>For the tests: whether the key is all zero (as it is after <see cref="Dispose"/>).</summary>
    internal bool KeyIsZero => !_key.AsSpan().ContainsAnyExcept(0u);

    /// <summary>Zeroes the key: the session's symbols can no longer be computed by anyone.</summary>
    public void Dispose()
    {
        _disposed = true;
        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(_key.AsSpan()));
    }
}
