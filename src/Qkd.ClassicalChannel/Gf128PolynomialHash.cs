using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Qkd.ClassicalChannel;

/// <summary>
/// The universal hash of the classical channel's Wegman-Carter MAC: polynomial evaluation over GF(2^128).
/// <para>
/// Field: GF(2)[x] / (x^128 + x^7 + x^2 + x + 1); an element is two little-endian 64-bit words, bit i of the 128 being
/// the coefficient of x^i (our own convention, not GCM's bit-reflected one: nothing here has to interoperate with GCM).
/// A message of L bytes is cut into m = ceil(L / 16) blocks B_1..B_m of 16 bytes (little-endian, the last zero-padded)
/// followed by a length block B_(m+1) = 8L (the bit length); with n = m + 1 and the key k,
/// H_k(M) = B_1 k^n + B_2 k^(n-1) + ... + B_n k   (computed by Horner: h = (h + B_i) k).
/// </para>
/// <para>
/// Why it is epsilon-almost-XOR-universal with epsilon = n / 2^128: for two different messages M != M' (zero-padded
/// to the same block count, n the larger count; the length block makes different messages different block sequences),
/// H_k(M) + H_k(M') + delta is, for any fixed delta, a nonzero polynomial in k of degree at most n (it has no constant
/// term, so adding delta cannot make it vanish identically), hence it has at most n roots among the 2^128 keys:
/// Pr_k[H_k(M) XOR H_k(M') = delta] &lt;= n / 2^128. With tag = H_k(M) XOR p and p a fresh uniform 128-bit pad used
/// once, a tag reveals nothing about k, so k may be reused for every message and each forgery attempt succeeds with
/// probability at most <see cref="ForgeryBound"/>(n) (q attempts: at most q times that).
/// </para>
/// </summary>
public static class Gf128PolynomialHash
{
    public const int TagBytes = 16;
    public const int TagBits = 128;
    public const int BlockBytes = 16;

    /// <summary>Probability that one forged message of <paramref name="messageBytes"/> bytes is accepted.</summary>
    public static double ForgeryBound(long messageBytes) => (BlockCount(messageBytes) + 1) / Math.Pow(2, 128);

    /// <summary>Number of data blocks (without the length block).</summary>
    public static long BlockCount(long messageBytes) => (messageBytes + BlockBytes - 1) / BlockBytes;

    /// <summary>tag = H_k(message) XOR pad, written to <paramref name="tag"/> (16 bytes).</summary>
    public static void ComputeTag(ReadOnlySpan<byte> hashKey, ReadOnlySpan<byte> message, ReadOnlySpan<byte> pad, Span<byte> tag)
    {
        if (hashKey.Length != 16) throw new ArgumentException("The hash key is 16 bytes.", nameof(hashKey));
        if (pad.Length != TagBytes) throw new ArgumentException("The pad is 16 bytes.", nameof(pad));
        if (tag.Length != TagBytes) throw new ArgumentException("The tag is 16 bytes.", nameof(tag));
        Hash(hashKey, message, out ulong lo, out ulong hi);
        BinaryPrimitives.WriteUInt64LittleEndian(tag, lo ^ BinaryPrimitives.ReadUInt64LittleEndian(pad));
        BinaryPrimitives.WriteUInt64LittleEndian(tag[8..], hi ^ BinaryPrimitives.ReadUInt64LittleEndian(pad[8..]));
    }

    /// <summary>H_k(message) as two words (low, high).</summary>
    public static void Hash(ReadOnlySpan<byte> hashKey, ReadOnlySpan<byte> message, out ulong lo, out ulong hi)
    {
        ulong k0 = BinaryPrimitives.ReadUInt64LittleEndian(hashKey);
        ulong k1 = BinaryPrimitives.ReadUInt64LittleEndian(hashKey[8..]);
        ulong h0 = 0, h1 = 0;
        int full = message.Length / BlockBytes;
        for (int i = 0; i < full; i++)
        {
            var block = message.Slice(i * BlockBytes, BlockBytes);
            h0 ^= BinaryPrimitives.ReadUInt64LittleEndian(block);
            h1 ^= BinaryPrimitives.ReadUInt64LittleEndian(block[8..]);
            Multiply(h0, h1, k0, k1, out h0, out h1);
        }
        int rest = message.Length - full * BlockBytes;
        if (rest > 0)
        {
            Span<byte> last = stackalloc byte[BlockBytes];
            last.Clear();
            message[(full * BlockBytes)..].CopyTo(last);
            h0 ^= BinaryPrimitives.ReadUInt64LittleEndian(last);
            h1 ^= BinaryPrimitives.ReadUInt64LittleEndian(last[8..]);
            Multiply(h0, h1, k0, k1, out h0, out h1);
        }
        h0 ^= (ulong)message.Length * 8;
        Multiply(h0, h1, k0, k1, out lo, out hi);
    }

    /// <summary>
    /// The largest multiplicative order that counts as weak: a key whose powers repeat within this many steps makes
    /// messages of that many blocks collide (H_k of a message and of the same blocks shifted by the order agree).
    /// </summary>
    public const long WeakOrderBound = 1L << 40;

    // 2^128 - 1 = 3 * 5 * 17 * 257 * 641 * 65537 * 274177 * 6700417 * 67280421310721: every element's order divides it.
    private static readonly ulong[] GroupOrderPrimes = [3, 5, 17, 257, 641, 65537, 274177, 6700417, 67280421310721];

    /// <summary>Every divisor of 2^128 - 1 up to <see cref="WeakOrderBound"/>: the orders a weak key could have.</summary>
    private static readonly ulong[] SmallOrders = SmallDivisors();

    /// <summary>
    /// A hash key that must not be used: zero (H is then zero for every message: the tag is the bare pad) or of small
    /// multiplicative order (at most <see cref="WeakOrderBound"/>; 1 among them, which makes H a plain XOR of blocks).
    /// A uniformly random key is weak with probability below 2^-80; a refreshed key that is weak is skipped (both ends
    /// decide alike, from the same bits).
    /// </summary>
    public static bool IsWeakKey(ReadOnlySpan<byte> hashKey)
    {
        if (hashKey.Length != 16) throw new ArgumentException("The hash key is 16 bytes.", nameof(hashKey));
        ulong k0 = BinaryPrimitives.ReadUInt64LittleEndian(hashKey), k1 = BinaryPrimitives.ReadUInt64LittleEndian(hashKey[8..]);
        if (k0 == 0 && k1 == 0) return true;
        foreach (ulong order in SmallOrders)
        {
            Power(k0, k1, order, out ulong r0, out ulong r1);
            if (r0 == 1 && r1 == 0) return true;
        }
        return false;
    }

    /// <summary>k^e by square and multiply.</summary>
    public static void Power(ulong k0, ulong k1, ulong exponent, out ulong r0, out ulong r1)
    {
        ulong a0 = 1, a1 = 0, b0 = k0, b1 = k1;
        while (exponent != 0)
        {
            if ((exponent & 1) != 0) Multiply(a0, a1, b0, b1, out a0, out a1);
            Multiply(b0, b1, b0, b1, out b0, out b1);
            exponent >>= 1;
        }
        r0 = a0;
        r1 = a1;
    }

    private static ulong[] SmallDivisors()
    {
        var divisors = new List<ulong>();
        for (int mask = 1; mask < 1 << GroupOrderPrimes.Length; mask++)
        {
            UInt128 d = 1;
            for (int i = 0; i < GroupOrderPrimes.Length && d <= (UInt128)WeakOrderBound; i++)
                if ((mask & (1 << i)) != 0) d *= GroupOrderPrimes[i];
            if (d <= (UInt128)WeakOrderBound) divisors.Add((ulong)d);
        }
        divisors.Add(1);
        divisors.Sort();
        return [.. divisors];
    }

    /// <summary>a * b in the field (hardware carry-less multiply when present).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Multiply(ulong a0, ulong a1, ulong b0, ulong b1, out ulong r0, out ulong r1)
    {
        if (Pclmulqdq.IsSupported) MultiplyPclmul(a0, a1, b0, b1, out r0, out r1);
        else MultiplySoftware(a0, a1, b0, b1, out r0, out r1);
    }

    /// <summary>The portable multiply (also the reference the hardware path is tested against).</summary>
    public static void MultiplySoftware(ulong a0, ulong a1, ulong b0, ulong b1, out ulong r0, out ulong r1)
    {
        // Schoolbook 128x128 -> 256 carry-less product p3:p2:p1:p0.
        ClMul(a0, b0, out ulong p0, out ulong p1);
        ClMul(a1, b1, out ulong p2, out ulong p3);
        ClMul(a0, b1, out ulong m0, out ulong m1);
        ClMul(a1, b0, out ulong n0, out ulong n1);
        p1 ^= m0 ^ n0;
        p2 ^= m1 ^ n1;
        Reduce(p0, p1, p2, p3, out r0, out r1);
    }

    private static void MultiplyPclmul(ulong a0, ulong a1, ulong b0, ulong b1, out ulong r0, out ulong r1)
    {
        var a = Vector128.Create(a0, a1);
        var b = Vector128.Create(b0, b1);
        var lo = Pclmulqdq.CarrylessMultiply(a, b, 0x00);
        var hi = Pclmulqdq.CarrylessMultiply(a, b, 0x11);
        var mid = Pclmulqdq.CarrylessMultiply(a, b, 0x10) ^ Pclmulqdq.CarrylessMultiply(a, b, 0x01);
        ulong p0 = lo.GetElement(0), p1 = lo.GetElement(1) ^ mid.GetElement(0);
        ulong p2 = hi.GetElement(0) ^ mid.GetElement(1), p3 = hi.GetElement(1);
        // Fold with the hardware multiply too: x^128 = x^7 + x^2 + x + 1 (0x87).
        var r = Vector128.Create(0x87UL, 0UL);
        var t3 = Pclmulqdq.CarrylessMultiply(Vector128.Create(p3, 0UL), r, 0x00);
        p1 ^= t3.GetElement(0);
        p2 ^= t3.GetElement(1);
        var t2 = Pclmulqdq.CarrylessMultiply(Vector128.Create(p2, 0UL), r, 0x00);
        r0 = p0 ^ t2.GetElement(0);
        r1 = p1 ^ t2.GetElement(1);
    }

    /// <summary>
    /// p3:p2:p1:p0 mod x^128 + x^7 + x^2 + x + 1. The word at x^192 is p3 * x^64 * x^128 = p3 * 0x87 * x^64, landing in
    /// words 1 and 2; then the word at x^128 is p2 * 0x87, landing in words 0 and 1 (p3's fold adds at most 7 bits to p2,
    /// whose fold then stays below x^128).
    /// </summary>
    private static void Reduce(ulong p0, ulong p1, ulong p2, ulong p3, out ulong r0, out ulong r1)
    {
        ClMul(p3, 0x87, out ulong t0, out ulong t1);
        p1 ^= t0;
        p2 ^= t1;
        ClMul(p2, 0x87, out t0, out t1);
        r0 = p0 ^ t0;
        r1 = p1 ^ t1;
    }

    private static void ClMul(ulong a, ulong b, out ulong lo, out ulong hi)
    {
        ulong l = 0, h = 0;
        for (int i = 0; i < 64; i++)
        {
            if (((b >> i) & 1) != 0)
            {
                l ^= a << i;
                if (i > 0) h ^= a >> (64 - i);
            }
        }
        lo = l;
        hi = h;
    }
}
