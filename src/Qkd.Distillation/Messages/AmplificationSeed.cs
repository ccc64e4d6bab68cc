using Qkd.Distillation.PrivacyAmplification;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Messages;

/// <summary>
/// Alice → Bob, after a matching <see cref="VerificationResult"/>: the secret key length Alice computed and, when it
/// is not zero, the Toeplitz seed for privacy amplification. A zero length is the block's abort (no key, no seed).
/// Wire: block id, secret key length, then (only when the length is positive) the seed as a byte string of
/// <see cref="ToeplitzSeed.SeedBytes"/> bytes preceded by its length.
/// </summary>
public readonly struct AmplificationSeed
{
    public const MessageType Type = MessageType.AmplificationSeed;

    /// <param name="secretBits">The key length; zero when no key can be extracted.</param>
    /// <param name="seed"><see cref="ToeplitzSeed.SeedBytes"/> bytes when <paramref name="secretBits"/> is positive,
    /// else empty. A view: the caller's buffer is written from directly.</param>
    public AmplificationSeed(long blockId, long secretBits, ReadOnlyMemory<byte> seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(secretBits);
        int expected = secretBits > 0 ? ToeplitzSeed.SeedBytes : 0;
        if (seed.Length != expected)
            throw new ArgumentException($"A key of {secretBits} bits goes with a seed of {expected} bytes, not {seed.Length}.", nameof(seed));
        BlockId = blockId;
        SecretBits = secretBits;
        Seed = seed;
    }

    public long BlockId { get; }

    public long SecretBits { get; }

    public ReadOnlyMemory<byte> Seed { get; }

    /// <summary>Encodes the message into <paramref name="writer"/> (replacing what it held) and returns the bytes.</summary>
    public ReadOnlyMemory<byte> Write(ProtocolWriter writer)
    {
        writer.Begin(Type);
        writer.WriteVarInt64(BlockId);
        writer.WriteVarInt64(SecretBits);
        if (SecretBits > 0)
            writer.WriteBytes(Seed.Span);
        return writer.Message;
    }

    /// <summary>Decodes the seed (copied out of the message, which the channel may reuse); whether the length is the
    /// one the receiver computed is its own check.</summary>
    /// <exception cref="ProtocolException">Wrong type, truncated, trailing bytes (a seed after a zero length), or a
    /// seed of another size.</exception>
    public static AmplificationSeed Read(ReadOnlySpan<byte> message)
    {
        var reader = new ProtocolReader(message, Type);
        long blockId = reader.ReadVarInt64("block id");
        long secretBits = reader.ReadVarInt64("key length");
        byte[] seed = [];
        if (secretBits > 0)
        {
            var bytes = reader.ReadBytes("Toeplitz seed", ToeplitzSeed.SeedBytes);
            if (bytes.Length != ToeplitzSeed.SeedBytes)
                throw new ProtocolException($"Toeplitz seed has {bytes.Length} bytes, expected {ToeplitzSeed.SeedBytes}.");
            seed = bytes.ToArray();
        }
        reader.EnsureEnd(Type);
        return new AmplificationSeed(blockId, secretBits, seed);
    }
}
