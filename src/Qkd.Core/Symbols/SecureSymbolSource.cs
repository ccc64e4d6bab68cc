using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using System.Diagnostics.CodeAnalysis;
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
        return RandomAt(_key, pulseIndex);
    }

    /// <summary>
    /// The 64 bits of pulse <paramref name="pulseIndex"/> under <paramref name="key"/> (8 words): shared with
    /// <see cref="RekeyedSymbolSource"/>, whose epochs each have their own key.
    /// </summary>
    internal static ulong RandomAt(ReadOnlySpan<uint> key, long pulseIndex)
    {
        Span<uint> block = stackalloc uint[ChaCha20.BlockWords];
        ChaCha20.Block(key, (ulong)pulseIndex / PulsesPerBlock, Nonce, block);
        int word = 2 * (int)(pulseIndex % PulsesPerBlock);
        ulong value = block[word] | ((ulong)block[word + 1] << 32);
        block.Clear();
        return value;
    }

    /// <summary>
    /// The modulator's bulk path (a 1 GHz transmitter needs 1e9 symbols a second): the same symbols as
    /// <see cref="SymbolAt"/>, packed, with no allocation. Where the CPU has 512-bit vectors, 128 pulses (sixteen
    /// ChaCha20 blocks, one per lane) at a time, mapped to packed bytes in the vectors; elsewhere, and for the pulses
    /// before the first whole group, 64 pulses (eight blocks) at a time through the keystream words.
    /// </summary>
    public void FillPacked(long firstPulse, Span<byte> packed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstPulse);
        ObjectDisposedException.ThrowIf(_disposed, this);
        FillPacked(_key, Distribution, firstPulse, packed);
        // A session that ended while the modulator was still streaming: do not hand out symbols computed from a key
        // that was being zeroed meanwhile.
        ObjectDisposedException.ThrowIf(_disposed, this);
    }

    /// <summary>
    /// <see cref="FillPacked(long, Span{byte})"/> under <paramref name="key"/> (8 words): shared with
    /// <see cref="RekeyedSymbolSource"/>, which calls it once per key epoch a span covers.
    /// </summary>
    internal static void FillPacked(ReadOnlySpan<uint> key, SymbolDistribution distribution, long firstPulse, Span<byte> packed)
    {
        // The vector path writes whole bytes from a group's first pulse: it needs the bytes to start at even pulses.
        if (Vector512.IsHardwareAccelerated && (firstPulse & 1) == 0 && packed.Length >= 2 * WideBytes512)
        {
            int head = (int)((WidePulses512 - firstPulse % WidePulses512) % WidePulses512) / 2;
            FillPackedScalar(key, distribution, firstPulse, packed[..head]);
            int whole = (packed.Length - head) / WideBytes512 * WideBytes512;
            FillPacked512(key, distribution, firstPulse + 2L * head, packed.Slice(head, whole));
            FillPackedScalar(key, distribution, firstPulse + 2L * (head + whole), packed[(head + whole)..]);
        }
        else
            FillPackedScalar(key, distribution, firstPulse, packed);
    }

    private const int WideBlocks512 = 16;
    private const int WidePulses512 = WideBlocks512 * PulsesPerBlock;
    private const int WideBytes512 = WidePulses512 / 2;

    /// <summary>Eight blocks at a time through the keystream words, any alignment.</summary>
    private static void FillPackedScalar(ReadOnlySpan<uint> key, SymbolDistribution distribution, long firstPulse, Span<byte> packed)
    {
        if (packed.IsEmpty) return;
        Span<uint> words = stackalloc uint[ChaCha20.WideBlocks * ChaCha20.BlockWords];
        long endPulse = firstPulse + 2L * packed.Length;
        long pulse = firstPulse;
        while (pulse < endPulse)
        {
            long wideStart = pulse - pulse % PulsesPerWideBlock;
            ChaCha20.Blocks8(key, (ulong)wideStart / PulsesPerBlock, Nonce, words);
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
    }

    /// <summary>
    /// Whole groups of 128 pulses from <paramref name="firstPulse"/>, a multiple of 128: sixteen ChaCha20 blocks, block
    /// b in lane b. Pulse 8 b + j takes words 2 j and 2 j + 1 of block b, so the nibbles of pulses 8 b + 2 m and
    /// 8 b + 2 m + 1 make byte 4 b + m of the group: lane b of the four byte vectors, merged, is the group's 32-bit
    /// word b, stored as is (little-endian).
    /// </summary>
    private static void FillPacked512(ReadOnlySpan<uint> key, SymbolDistribution distribution, long firstPulse, Span<byte> packed)
    {
        var (signal, decoy, z) = distribution.Thresholds;
        // A threshold of 2^32 (probability 1 up to it) is above every 32-bit value: such a comparison is never true.
        var signalThreshold = Vector512.Create((uint)Math.Min(signal, uint.MaxValue));
        var signalMask = signal > uint.MaxValue ? Vector512<uint>.Zero : Vector512<uint>.AllBitsSet;
        var decoyThreshold = Vector512.Create((uint)Math.Min(decoy, uint.MaxValue));
        var decoyMask = decoy > uint.MaxValue ? Vector512<uint>.Zero : Vector512<uint>.AllBitsSet;
        var basisThreshold = Vector512.Create((uint)(z >> 1));
        var one = Vector512.Create(1u);
        var low31 = Vector512.Create(0x7FFFFFFFu);

        var k0 = Vector512.Create(key[0]); var k1 = Vector512.Create(key[1]); var k2 = Vector512.Create(key[2]); var k3 = Vector512.Create(key[3]);
        var k4 = Vector512.Create(key[4]); var k5 = Vector512.Create(key[5]); var k6 = Vector512.Create(key[6]); var k7 = Vector512.Create(key[7]);
        var n14 = Vector512.Create(unchecked((uint)Nonce)); var n15 = Vector512.Create((uint)(Nonce >> 32));
        var c0 = Vector512.Create(0x61707865u); var c1 = Vector512.Create(0x3320646Eu); var c2 = Vector512.Create(0x79622D32u); var c3 = Vector512.Create(0x6B206574u);
        Span<uint> low = stackalloc uint[WideBlocks512];
        Span<uint> high = stackalloc uint[WideBlocks512];
        ulong block = (ulong)firstPulse / PulsesPerBlock;
        for (int offset = 0; offset < packed.Length; offset += WideBytes512, block += WideBlocks512)
        {
            for (int b = 0; b < WideBlocks512; b++)
            {
                ulong counter = block + (ulong)b;
                low[b] = (uint)counter;
                high[b] = (uint)(counter >> 32);
            }
            var c12 = Vector512.Create<uint>(low); var c13 = Vector512.Create<uint>(high);
            Vector512<uint> x0 = c0, x1 = c1, x2 = c2, x3 = c3, x4 = k0, x5 = k1, x6 = k2, x7 = k3;
            Vector512<uint> x8 = k4, x9 = k5, x10 = k6, x11 = k7, x12 = c12, x13 = c13, x14 = n14, x15 = n15;
            for (int round = 0; round < 10; round++)
            {
                Quarter(ref x0, ref x4, ref x8, ref x12);
                Quarter(ref x1, ref x5, ref x9, ref x13);
                Quarter(ref x2, ref x6, ref x10, ref x14);
                Quarter(ref x3, ref x7, ref x11, ref x15);
                Quarter(ref x0, ref x5, ref x10, ref x15);
                Quarter(ref x1, ref x6, ref x11, ref x12);
                Quarter(ref x2, ref x7, ref x8, ref x13);
                Quarter(ref x3, ref x4, ref x9, ref x14);
            }
            var word = Bytes(x0 + c0, x1 + c1, x2 + c2, x3 + c3)
                       | (Bytes(x4 + k0, x5 + k1, x6 + k2, x7 + k3) << 8)
                       | (Bytes(x8 + k4, x9 + k5, x10 + k6, x11 + k7) << 16)
                       | (Bytes(x12 + c12, x13 + c13, x14 + n14, x15 + n15) << 24);
            word.AsByte().CopyTo(packed.Slice(offset, WideBytes512));
        }
        low.Clear();
        high.Clear();

        // Two pulses' keystream words (low 32 bits, high 32 bits each) to their packed byte, as SymbolDistribution.PackedFrom.
        Vector512<uint> Bytes(Vector512<uint> lo0, Vector512<uint> hi0, Vector512<uint> lo1, Vector512<uint> hi1) =>
            Nibble(lo0, hi0) | (Nibble(lo1, hi1) << 4);

        Vector512<uint> Nibble(Vector512<uint> lo, Vector512<uint> hi)
        {
            var intensity = (Vector512.GreaterThanOrEqual(lo, signalThreshold) & signalMask & one)
                            + (Vector512.GreaterThanOrEqual(lo, decoyThreshold) & decoyMask & one);
            var basis = Vector512.GreaterThanOrEqual(hi & low31, basisThreshold) & one;
            return basis | ((hi >>> 31) << 1) | (intensity << 2);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Quarter(ref Vector512<uint> a, ref Vector512<uint> b, ref Vector512<uint> c, ref Vector512<uint> d)
    {
        a += b; d ^= a; d = RotateLeft(d, 16);
        c += d; b ^= c; b = RotateLeft(b, 12);
        a += b; d ^= a; d = RotateLeft(d, 8);
        c += d; b ^= c; b = RotateLeft(b, 7);
    }

    /// <summary>One instruction (vprold) with AVX-512F, two shifts and an or without.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<uint> RotateLeft(Vector512<uint> value, [ConstantExpected] byte count) =>
        Avx512F.IsSupported ? Avx512F.RotateLeft(value, count) : (value << count) | (value >>> (32 - count));

    /// <summary>For the tests: whether the key is all zero (as it is after <see cref="Dispose"/>).</summary>
    internal bool KeyIsZero => !_key.AsSpan().ContainsAnyExcept(0u);

    /// <summary>Zeroes the key: the session's symbols can no longer be computed by anyone.</summary>
    public void Dispose()
    {
        _disposed = true;
        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(_key.AsSpan()));
    }
}
