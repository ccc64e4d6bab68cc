using System.Numerics;

namespace Qkd.Core.Rings;

/// <summary>Capacity rules shared by the rings: a power of two, so that a sequence maps to its slot with a mask.</summary>
public static class RingCapacity
{
    /// <summary>2^30 slots: beyond that the slot arrays alone would be gigabytes and an int span could not cover a batch.</summary>
    public const int Max = 1 << 30;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> naming <paramref name="parameterName"/> unless capacity is a power of two in 1..2^30.</summary>
    public static void Validate(int capacity, string parameterName = "capacity")
    {
        if (capacity <= 0 || capacity > Max || !BitOperations.IsPow2(capacity))
            throw new ArgumentOutOfRangeException(parameterName, capacity,
                $"Ring capacity must be a power of two between 1 and 2^30 (e.g. {SuggestionFor(capacity)}), got {capacity}.");
    }

    /// <summary>The smallest valid capacity that holds <paramref name="minimum"/> elements.</summary>
    public static int AtLeast(int minimum)
    {
        if (minimum <= 0 || minimum > Max)
            throw new ArgumentOutOfRangeException(nameof(minimum), minimum, "Requested ring size must be between 1 and 2^30.");
        return (int)BitOperations.RoundUpToPowerOf2((uint)minimum);
    }

    private static int SuggestionFor(int capacity) =>
        capacity <= 1 ? 1024 : capacity > Max ? Max : (int)BitOperations.RoundUpToPowerOf2((uint)capacity);
}
