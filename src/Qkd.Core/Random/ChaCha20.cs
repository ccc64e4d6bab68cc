using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Qkd.Core.Random;

/// <summary>
/// The ChaCha20 block function (RFC 8439, 20 rounds) with a 64-bit block counter in state words 12-13 and a 64-bit
/// nonce in words 14-15 (Bernstein's original layout): block b of a key is a pure function of (key, nonce, b), so a
/// stream position can be computed without generating the ones before it. Keystream bytes are the output words in
/// little-endian order. The eight-block path computes eight consecutive blocks at once in 256-bit vectors, one block
/// per lane; it gives exactly the scalar blocks.
/// </summary>
internal static class ChaCha20
{
    public const int KeyWords = 8;
    public const int BlockWords = 16;
    public const int WideBlocks = 8;

    private const uint C0 = 0x61707865, C1 = 0x3320646E, C2 = 0x79622D32, C3 = 0x6B206574;

    /// <summary>Block <paramref name="counter"/> of the stream (key, nonce): 16 words.</summary>
    public static void Block(ReadOnlySpan<uint> key, ulong counter, ulong nonce, Span<uint> output)
    {
        if (key.Length != KeyWords) throw new ArgumentException($"A ChaCha20 key is {KeyWords} words.", nameof(key));
        if (output.Length < BlockWords) throw new ArgumentException($"A ChaCha20 block is {BlockWords} words.", nameof(output));
        uint x0 = C0, x1 = C1, x2 = C2, x3 = C3;
        uint x4 = key[0], x5 = key[1], x6 = key[2], x7 = key[3], x8 = key[4], x9 = key[5], x10 = key[6], x11 = key[7];
        uint x12 = (uint)counter, x13 = (uint)(counter >> 32), x14 = (uint)nonce, x15 = (uint)(nonce >> 32);
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
        output[0] = x0 + C0; output[1] = x1 + C1; output[2] = x2 + C2; output[3] = x3 + C3;
        output[4] = x4 + key[0]; output[5] = x5 + key[1]; output[6] = x6 + key[2]; output[7] = x7 + key[3];
        output[8] = x8 + key[4]; output[9] = x9 + key[5]; output[10] = x10 + key[6]; output[11] = x11 + key[7];
        output[12] = x12 + (uint)counter; output[13] = x13 + (uint)(counter >> 32);
        output[14] = x14 + (uint)nonce; output[15] = x15 + (uint)(nonce >> 32);
    }

    /// <summary>
    /// Blocks <paramref name="firstCounter"/> .. + 7 of the stream, block after block (block b's words at
    /// [16 b, 16 b + 16)): the keystream in order. The counter wraps modulo 2^64 as the scalar path's does.
    /// </summary>
    public static void Blocks8(ReadOnlySpan<uint> key, ulong firstCounter, ulong nonce, Span<uint> output)
    {
        if (key.Length != KeyWords) throw new ArgumentException($"A ChaCha20 key is {KeyWords} words.", nameof(key));
        if (output.Length < WideBlocks * BlockWords) throw new ArgumentException($"Eight blocks are {WideBlocks * BlockWords} words.", nameof(output));
        Span<uint> low = stackalloc uint[WideBlocks];
        Span<uint> high = stackalloc uint[WideBlocks];
        for (int b = 0; b < WideBlocks; b++)
        {
            ulong c = firstCounter + (ulong)b;
            low[b] = (uint)c;
            high[b] = (uint)(c >> 32);
        }
        var k0 = Vector256.Create(key[0]); var k1 = Vector256.Create(key[1]); var k2 = Vector256.Create(key[2]); var k3 = Vector256.Create(key[3]);
        var k4 = Vector256.Create(key[4]); var k5 = Vector256.Create(key[5]); var k6 = Vector256.Create(key[6]); var k7 = Vector256.Create(key[7]);
        var c12 = Vector256.Create<uint>(low); var c13 = Vector256.Create<uint>(high);
        var n14 = Vector256.Create((uint)nonce); var n15 = Vector256.Create((uint)(nonce >> 32));
        Vector256<uint> x0 = Vector256.Create(C0), x1 = Vector256.Create(C1), x2 = Vector256.Create(C2), x3 = Vector256.Create(C3);
        Vector256<uint> x4 = k0, x5 = k1, x6 = k2, x7 = k3, x8 = k4, x9 = k5, x10 = k6, x11 = k7, x12 = c12, x13 = c13, x14 = n14, x15 = n15;
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
        Span<uint> lanes = stackalloc uint[WideBlocks];
        Store(x0 + Vector256.Create(C0), 0, lanes, output); Store(x1 + Vector256.Create(C1), 1, lanes, output);
        Store(x2 + Vector256.Create(C2), 2, lanes, output); Store(x3 + Vector256.Create(C3), 3, lanes, output);
        Store(x4 + k0, 4, lanes, output); Store(x5 + k1, 5, lanes, output); Store(x6 + k2, 6, lanes, output); Store(x7 + k3, 7, lanes, output);
        Store(x8 + k4, 8, lanes, output); Store(x9 + k5, 9, lanes, output); Store(x10 + k6, 10, lanes, output); Store(x11 + k7, 11, lanes, output);
        Store(x12 + c12, 12, lanes, output); Store(x13 + c13, 13, lanes, output); Store(x14 + n14, 14, lanes, output); Store(x15 + n15, 15, lanes, output);
        // The stack copies held key words and keystream: clear them before the frame is reused.
        low.Clear(); high.Clear(); lanes.Clear();
    }

    /// <summary>Word <paramref name="word"/> of the eight blocks, one per lane, to its place in each block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector256<uint> value, int word, Span<uint> lanes, Span<uint> output)
    {
        value.CopyTo(lanes);
        for (int b = 0; b < WideBlocks; b++) output[b * BlockWords + word] = lanes[b];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Quarter(ref uint a, ref uint b, ref uint c, ref uint d)
    {
        a += b; d ^= a; d = uint.RotateLeft(d, 16);
        c += d; b ^= c; b = uint.RotateLeft(b, 12);
        a += b; d ^= a; d = uint.RotateLeft(d, 8);
        c += d; b ^= c; b = uint.RotateLeft(b, 7);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Quarter(ref Vector256<uint> a, ref Vector256<uint> b, ref Vector256<uint> c, ref Vector256<uint> d)
    {
        a += b; d ^= a; d = (d << 16) | (d >>> 16);
        c += d; b ^= c; b = (b << 12) | (b >>> 20);
        a += b; d ^= a; d = (d << 8) | (d >>> 24);
        c += d; b ^= c; b = (b << 7) | (b >>> 25);
    }
}
