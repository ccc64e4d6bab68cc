using Qkd.Distillation.ErrorCorrection;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Messages;

/// <summary>
/// Bob → Alice: one Cascade round of every frame still correcting. Wire: block id, group count, then per group
/// (frames strictly increasing) the frame index, the query count (at least one) and each query's pass, start and
/// length. Alice answers with <see cref="ParityAnswers"/> once the whole round has been checked.
/// </summary>
/// <remarks>
/// The round is the message's body on both ends: Bob writes straight from his correctors' query buffers, and Alice
/// reads into her reusable query and parity buffers, each group of the round viewing its slice of them, so that her
/// answers are written into the same round and sent back from it.
/// </remarks>
public readonly struct ParityQueries
{
    public const MessageType Type = MessageType.ParityQueries;

    /// <summary>Queries accepted in one round, all frames together: far above what Cascade asks (a round asks at most
    /// one query per block of a frame), low enough that a hostile count cannot claim gigabytes of buffer.</summary>
    public const int MaximumQueriesPerRound = 1 << 26;

    /// <summary>Highest pass index accepted; a schedule has a handful of passes, and the responder rejects any it lacks.</summary>
    public const int MaximumPass = 1 << 16;

    // Each query takes at least three bytes (pass, start and length, one varint each).
    private const int MinimumQueryBytes = 3;

    public ParityQueries(long blockId, MultiplexedParityRound round)
    {
        ArgumentNullException.ThrowIfNull(round);
        BlockId = blockId;
        Round = round;
    }

    public long BlockId { get; }

    /// <summary>The frames asking and their queries; the parity slots are where the answers go.</summary>
    public MultiplexedParityRound Round { get; }

    /// <summary>Encodes the message into <paramref name="writer"/> (replacing what it held) and returns the bytes.</summary>
    /// <exception cref="ArgumentException">The round is one <see cref="Read"/> refuses: no groups, a group without
    /// queries, frames not increasing, or a pass beyond <see cref="MaximumPass"/>.</exception>
    public ReadOnlyMemory<byte> Write(ProtocolWriter writer)
    {
        if (Round.GroupCount == 0)
            throw new ArgumentException("A round of parity queries names at least one frame.");
        writer.Begin(Type);
        writer.WriteVarInt64(BlockId);
        writer.WriteVarInt64(Round.GroupCount);
        for (int g = 0; g < Round.GroupCount; g++)
        {
            var queries = Round.Queries(g).Span;
            int frame = Round.FrameIndex(g);
            if (queries.IsEmpty)
                throw new ArgumentException($"Frame {frame} is in the round without a query.");
            if (g > 0 && frame <= Round.FrameIndex(g - 1))
                throw new ArgumentException($"Frame {frame} follows frame {Round.FrameIndex(g - 1)}; a round lists its frames in increasing order.");
            writer.WriteVarInt64(frame);
            writer.WriteVarInt64(queries.Length);
            foreach (var q in queries)
            {
                if ((uint)q.Pass > MaximumPass)
                    throw new ArgumentException($"Frame {frame}: pass {q.Pass} is outside 0..{MaximumPass}.");
                writer.WriteVarInt64(q.Pass);
                writer.WriteVarInt64(q.Start);
                writer.WriteVarInt64(q.Length);
            }
        }
        return writer.Message;
    }

    /// <summary>
    /// Decodes a round of queries into <paramref name="round"/> (cleared first), whose capacity is the number of
    /// frames of the block being corrected. Each group's queries and parity slots are slices of the two buffers.
    /// Whether the queries fit the frames' schedules is the responder's check.
    /// </summary>
    /// <param name="queryBuffer">Holds the round's queries; replaced by a larger array when the round does not fit.</param>
    /// <param name="parityBuffer">Holds the answers to come, one slot per query; grown with <paramref name="queryBuffer"/>.</param>
    /// <exception cref="ProtocolException">Wrong type, truncated, trailing bytes; no groups or more than the block's
    /// frames; a frame outside the block, listed twice or out of order, or with no queries; too many queries; a pass,
    /// start or length out of range.</exception>
    public static ParityQueries Read(ReadOnlySpan<byte> message, MultiplexedParityRound round, ref ParityQuery[] queryBuffer, ref byte[] parityBuffer)
    {
        var reader = new ProtocolReader(message, Type);
        long blockId = reader.ReadVarInt64("block id");
        int frameCount = round.Capacity;
        long groups = reader.ReadVarInt64("frame group count");
        if (groups < 1 || groups > frameCount)
            throw new ProtocolException($"Block {blockId}: parity queries for {groups} frames; a round names 1 to {frameCount}.");

        // The rest of the message bounds the round's queries, so the buffers grow (if at all) once, before any group
        // takes a slice of them.
        int maximumQueries = Math.Min(MaximumQueriesPerRound, reader.Remaining / MinimumQueryBytes);
        if (queryBuffer.Length < maximumQueries)
        {
            int size = (int)Math.Min(MaximumQueriesPerRound, Math.Max(maximumQueries, 2L * queryBuffer.Length));
            queryBuffer = new ParityQuery[size];
        }
        if (parityBuffer.Length < queryBuffer.Length)
            parityBuffer = new byte[queryBuffer.Length];

        round.Clear();
        int total = 0;
        long previousFrame = -1;
        for (int g = 0; g < groups; g++)
        {
            long frame = reader.ReadVarInt64("frame index");
            if (frame >= frameCount)
                throw new ProtocolException($"Block {blockId}: parity queries for frame {frame}; the block has frames 0..{frameCount - 1}.");
            if (frame <= previousFrame)
                throw new ProtocolException($"Block {blockId}: frame {frame} follows frame {previousFrame} in one round; frames must be listed once each, in increasing order.");
            int count = reader.ReadCount("query count", maximumQueries - total);
            if (count == 0)
                throw new ProtocolException($"Block {blockId}: frame {frame} is listed with no parity queries.");
            for (int i = total; i < total + count; i++)
            {
                int pass = reader.ReadCount("pass", MaximumPass);
                int start = reader.ReadCount("start", int.MaxValue);
                int length = reader.ReadCount("length", int.MaxValue);
                queryBuffer[i] = new ParityQuery(pass, start, length);
            }
            round.Add((int)frame, queryBuffer.AsMemory(total, count), parityBuffer.AsMemory(total, count));
            total += count;
            previousFrame = frame;
        }
        reader.EnsureEnd(Type);
        return new ParityQueries(blockId, round);
    }
}
