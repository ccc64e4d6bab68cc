namespace Qkd.Core.Random;

/// <summary>
/// A source of random bits. In emulation and tests it is a seeded PRNG so that the same seed gives the same run;
/// on hardware it is backed by a physical (quantum) random number generator.
/// </summary>
public interface IRandomSource
{
    /// <summary>64 uniformly random bits.</summary>
    ulong NextUInt64();

    /// <summary>A uniform double in [0, 1).</summary>
    double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Fills the buffer with uniformly random bytes.</summary>
    void Fill(Span<byte> destination)
    {
        int i = 0;
        for (; i + 8 <= destination.Length; i += 8)
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(destination[i..], NextUInt64());
        if (i < destination.Length)
        {
            ulong last = NextUInt64();
            for (; i < destination.Length; i++, last >>= 8)
                destination[i] = (byte)last;
        }
    }

    /// <summary>A uniform integer in [0, bound), without modulo bias.</summary>
    int NextInt(int bound)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bound);
        // Lemire's multiply-shift with rejection.
        ulong m = (ulong)(uint)NextUInt64() * (uint)bound;
        if ((uint)m < (uint)bound)
        {
            uint threshold = (uint)-bound % (uint)bound;
            while ((uint)m < threshold)
                m = (ulong)(uint)NextUInt64() * (uint)bound;
        }
        return (int)(m >> 32);
    }
}
