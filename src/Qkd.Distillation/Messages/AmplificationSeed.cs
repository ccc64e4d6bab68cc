using Qkd.Core.Bits;
using Qkd.Distillation.PrivacyAmplification;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Messages;

/// <summary>
/// Alice → Bob, after a matching <see cref="VerificationResult"/>: the secret key length l Alice computed and, when it
/// is not zero, the whole Toeplitz seed for privacy amplification: the n + l - 1 bits of the matrix for a block of n
/// bits, all drawn from Alice's random source (<see cref="ToeplitzSeed"/> says why nothing shorter will do). A zero
/// length is the block's abort (no key, no seed).
/// <para>
/// A seed longer than <see cref="PartBits"/> is cut into parts of that many bits (the last one shorter), one message
/// each, sent back to back in order: part k holds seed bits [k * PartBits, min((k + 1) * PartBits, n + l - 1)).
/// Every message repeats the block id, the key length and the seed length, so each part is checked on its own.
/// </para>
/// <para>
/// Wire, per message: block id, key length, then (only when the length is positive) the seed length in bits, the
/// part index, and the part's bits as a bit string (bit length, then 8 bits per byte, least significant first).
/// </para>
/// </summary>
public readonly struct AmplificationSeed
{
    public const MessageType Type = MessageType.AmplificationSeed;

    /// <summary>
    /// Seed bits per message: 2^27 bits, 16 MiB, a sixteenth of the TCP classical channel's default message limit
    /// (TcpClassicalChannelOptions.MaxMessageBytes, 256 MiB). A block of the default 2^23 sifted bits sends its seed
    /// (under 2^24 bits, 2 MiB) in one message; the largest block a node accepts, 2^30 bits, in at most 16. Part of
    /// the protocol: both ends cut the seed at the same places.
    /// </summary>
    public const long PartBits = 1L << 27;

    private readonly long _partBits;
    private readonly int _partsHeld;

    /// <summary>A block's verdict with its whole seed, ready to be written part by part.</summary>
    /// <param name="secretBits">The key length l; zero when no key can be extracted.</param>
    /// <param name="seed">The n + l - 1 seed bits when <paramref name="secretBits"/> is positive, else null.</param>
    public AmplificationSeed(long blockId, long secretBits, PackedBits? seed)
        : this(blockId, secretBits, seed, PartBits)
    {
    }

    /// <summary>As the public constructor, with another part size (tests cut small seeds into several parts).</summary>
    internal AmplificationSeed(long blockId, long secretBits, PackedBits? seed, long partBits)
        : this(blockId, secretBits, seed, partBits, partsHeld: -1)
    {
    }

    private AmplificationSeed(long blockId, long secretBits, PackedBits? seed, long partBits, int partsHeld)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(secretBits);
        if (partBits < 64 || partBits % 64 != 0)
            throw new ArgumentOutOfRangeException(nameof(partBits), partBits, "Seed parts are a positive whole number of 64-bit words.");
        if (secretBits == 0 && seed is not null)
            throw new ArgumentException("A key length of zero goes without a seed.", nameof(seed));
        // n >= l, so a seed of n + l - 1 bits has at least 2l - 1.
        if (secretBits > 0 && (seed is null || seed.Length < 2 * secretBits - 1))
            throw new ArgumentException($"A key of {secretBits} bits needs a seed of n + l - 1 >= {2 * secretBits - 1} bits, got {(seed is null ? "none" : seed.Length.ToString())}.", nameof(seed));
        BlockId = blockId;
        SecretBits = secretBits;
        Seed = seed;
        _partBits = partBits;
        _partsHeld = partsHeld < 0 ? MessageCount : partsHeld;
    }

    public long BlockId { get; }

    public long SecretBits { get; }

    /// <summary>
    /// The Toeplitz seed, n + l - 1 bits (null when <see cref="SecretBits"/> is zero). After
    /// <see cref="Read(ReadOnlySpan{byte}, long)"/> it holds the parts read so far (one buffer, filled in place by
    /// <see cref="ReadNext"/>); it is the whole seed once <see cref="IsComplete"/>.
    /// </summary>
    public PackedBits? Seed { get; }

    /// <summary>The number of messages: one per seed part, or one for a zero length.</summary>
    public int MessageCount => Seed is null ? 1 : checked((int)((Seed.Length + _partBits - 1) / _partBits));

    /// <summary>Every part is in hand (always, for a value built to be written).</summary>
    public bool IsComplete => _partsHeld == MessageCount;

    /// <summary>Encodes message <paramref name="part"/> (of <see cref="MessageCount"/>) into <paramref name="writer"/>
    /// (replacing what it held) and returns the bytes.</summary>
    public ReadOnlyMemory<byte> Write(ProtocolWriter writer, int part = 0)
    {
        if (part < 0 || part >= _partsHeld)
            throw new ArgumentOutOfRangeException(nameof(part), part, $"Parts 0 .. {_partsHeld - 1} of {MessageCount} are held.");
        writer.Begin(Type);
        writer.WriteVarInt64(BlockId);
        writer.WriteVarInt64(SecretBits);
        if (Seed is { } seed)
        {
            writer.WriteVarInt64(seed.Length);
            writer.WriteVarInt64(part);
            long offset = part * _partBits;
            writer.WriteBits(seed, offset, Math.Min(_partBits, seed.Length - offset));
        }
        return writer.Message;
    }

    /// <summary>
    /// Decodes the first message for a block of <paramref name="inputBits"/> bits (n): the key length l and, when it
    /// is positive, part 0 of the seed, copied into a seed of n + l - 1 bits that <see cref="ReadNext"/> completes.
    /// The seed is sized from n, which the receiver holds, and the peer's l, which cannot pass n: the message cannot
    /// make the receiver allocate more than its own block allows. Whether l is the length the receiver computed is
    /// its own check.
    /// </summary>
    /// <exception cref="ProtocolException">Wrong type, truncated, trailing bytes (a seed after a zero length), a key
    /// longer than the block, a seed length other than n + l - 1, or a first message that is not part 0.</exception>
    public static AmplificationSeed Read(ReadOnlySpan<byte> message, long inputBits) => Read(message, inputBits, PartBits);

    /// <summary><see cref="Read(ReadOnlySpan{byte}, long)"/> with another part size (both ends must use the same).</summary>
    internal static AmplificationSeed Read(ReadOnlySpan<byte> message, long inputBits, long partBits)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inputBits, 1);
        var reader = new ProtocolReader(message, Type);
        long blockId = reader.ReadVarInt64("block id");
        long secretBits = reader.ReadVarInt64("key length", inputBits);
        if (secretBits == 0)
        {
            reader.EnsureEnd(Type);
            return new AmplificationSeed(blockId, 0, null, partBits);
        }
        long seedBits = ToeplitzSeed.Length(inputBits, secretBits);
        ReadHeader(ref reader, seedBits, secretBits, inputBits, part: 0, partBits);
        var seed = new PackedBits(seedBits);
        ReadPart(ref reader, seed, 0, partBits);
        return new AmplificationSeed(blockId, secretBits, seed, partBits, partsHeld: 1);
    }

    /// <summary>
    /// Decodes the next part of this seed from <paramref name="message"/> into <see cref="Seed"/> and returns the
    /// value holding one more part. The message must name the same block, key length and seed length, and the part
    /// that comes next.
    /// </summary>
    /// <exception cref="InvalidOperationException">The seed is already complete.</exception>
    /// <exception cref="ProtocolException">Malformed, or not the next part of this seed.</exception>
    public AmplificationSeed ReadNext(ReadOnlySpan<byte> message)
    {
        if (IsComplete || Seed is null)
            throw new InvalidOperationException($"Block {BlockId}'s seed is complete: no part follows.");
        var reader = new ProtocolReader(message, Type);
        long blockId = reader.ReadVarInt64("block id");
        if (blockId != BlockId)
            throw new ProtocolException($"Toeplitz seed part for block {blockId} while block {BlockId}'s seed is incomplete.");
        long secretBits = reader.ReadVarInt64("key length");
        if (secretBits != SecretBits)
            throw new ProtocolException($"Block {BlockId}: a seed part for a key of {secretBits} bits, the seed's first part said {SecretBits}.");
        ReadHeader(ref reader, Seed.Length, SecretBits, Seed.Length - SecretBits + 1, _partsHeld, _partBits);
        ReadPart(ref reader, Seed, _partsHeld, _partBits);
        return new AmplificationSeed(BlockId, SecretBits, Seed, _partBits, _partsHeld + 1);
    }

    /// <summary>The seed length (which must be n + l - 1) and the part index (which must be the expected one).</summary>
    private static void ReadHeader(ref ProtocolReader reader, long seedBits, long secretBits, long inputBits, int part, long partBits)
    {
        long length = reader.ReadVarInt64("Toeplitz seed length");
        if (length != seedBits)
            throw new ProtocolException($"Toeplitz seed of {length} bits; a {secretBits} x {inputBits} matrix takes n + l - 1 = {seedBits}.");
        long index = reader.ReadVarInt64("Toeplitz seed part");
        if (index != part)
            throw new ProtocolException($"Toeplitz seed part {index} where part {part} of {(seedBits + partBits - 1) / partBits} comes next.");
    }

    private static void ReadPart(ref ProtocolReader reader, PackedBits seed, int part, long partBits)
    {
        long offset = part * partBits;
        reader.ReadBits("Toeplitz seed bits", seed, offset, Math.Min(partBits, seed.Length - offset));
        reader.EnsureEnd(Type);
    }
}
