using Qkd.Core;
using Qkd.Core.Bits;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Core.Channel;
using Qkd.Distillation.Protocol;
using Qkd.ClassicalChannel;

namespace Qkd.Distillation.Tests.Protocol;

/// <summary>
/// Error correction of a block's frames together over the in-memory channel: one ParityQueries and one ParityAnswers
/// per round of the whole block, and rounds that do not fit the block refused with a clear <see cref="ProtocolException"/>.
/// </summary>
public class MultiplexedCorrectionProtocolTests
{
    private const int Frames = 8;

    private static readonly DistillationOptions Options = new()
    {
        MeanPhotonNumbers = [0.5, 0.15, 0.0],
        IntensityProbabilities = [0.65, 0.25, 0.10],
        BlockSizeBits = 1 << 20,
        FrameSizeBits = 1 << 17,
        MinimumFinalBlockBits = 1 << 16,
    };

    private static readonly SymbolDistribution Symbols = new(0.75, [0.65, 0.25, 0.10]);

    // Enough detections for one full block (and a short leftover), shared by every test.
    private static readonly Lazy<Detection[]> SharedDetections = new(() => SyntheticBob.Detections(new SeededSymbolSource(5, Symbols), 110_000_000, 0.02, 77));

    private sealed record Run(BobDistiller Bob, TappedClassicalChannel BobChannel, TappedClassicalChannel AliceChannel,
        MemoryKeySink AliceKeys, MemoryKeySink BobKeys, Exception? AliceError, Exception? BobError);

    /// <summary>Runs a session; <paramref name="tap"/> may tamper with either end's traffic. Errors are returned, not thrown.</summary>
    private static async Task<Run> RunAsync(Action<TappedClassicalChannel, TappedClassicalChannel>? tap = null, DistillationOptions? bobOptions = null)
    {
        var (ca, cb) = InMemoryClassicalChannel.CreatePair();
        var aliceChannel = new TappedClassicalChannel(ca);
        var bobChannel = new TappedClassicalChannel(cb);
        tap?.Invoke(bobChannel, aliceChannel);
        var aliceKeys = new MemoryKeySink();
        var bobKeys = new MemoryKeySink();
        var alice = new AliceDistiller(aliceChannel, new SeededSymbolSource(5, Symbols), Options, aliceKeys, new Xoshiro256StarStar(9));
        var bob = new BobDistiller(bobChannel, bobOptions ?? Options, bobKeys);
        var ct = TestContext.Current.CancellationToken;
        var (aliceError, bobError) = await BothEnds.RunAsync(alice, aliceChannel, bob, bobChannel, SharedDetections.Value, ct);
        return new Run(bob, bobChannel, aliceChannel, aliceKeys, bobKeys, aliceError, bobError);
    }

    [Fact]
    public async Task A_block_costs_one_message_each_way_per_round_of_its_slowest_frame()
    {
        var run = await RunAsync();
        Assert.Null(run.AliceError);
        Assert.Null(run.BobError);
        var corrected = run.Bob.Blocks.Where(b => b.ErrorCorrectionFrames > 0).ToList();
        var block = Assert.Single(corrected);
        Assert.Equal(Frames, block.ErrorCorrectionFrames);
        Assert.Equal(BlockOutcome.Key, block.Outcome);
        Assert.True(block.VerificationPassed);
        Assert.Equal(run.AliceKeys.Keys[block.BlockId], run.BobKeys.Keys[block.BlockId]);

        // One CorrectionStart/CorrectionSeed for the whole block, then one message pair per multiplexed round.
        Assert.Equal(1, run.BobChannel.Count(MessageType.CorrectionStart));
        Assert.Equal(1, run.AliceChannel.Count(MessageType.CorrectionSeed));
        Assert.Equal(block.ErrorCorrectionRounds, run.BobChannel.Count(MessageType.ParityQueries));
        Assert.Equal(block.ErrorCorrectionRounds, run.AliceChannel.Count(MessageType.ParityAnswers));
        // Frame by frame the block cost the sum of its frames' rounds; together about the slowest frame's.
        Assert.True(block.ErrorCorrectionRounds * 4 < block.ErrorCorrectionFrameRounds,
            $"{block.ErrorCorrectionRounds} rounds together, {block.ErrorCorrectionFrameRounds} frame by frame");
        Assert.True(block.ErrorCorrectionRounds >= block.ErrorCorrectionFrameRounds / Frames);
    }

    /// <summary>Replaces Bob's first ParityQueries message with one built by <paramref name="build"/> for the same block.</summary>
    private static Action<TappedClassicalChannel, TappedClassicalChannel> ReplaceFirstQueries(Action<ProtocolWriter> build) => (bob, _) =>
    {
        bool done = false;
        bob.OnSend = message =>
        {
            if (done || message[0] != (byte)MessageType.ParityQueries) return message;
            done = true;
            var reader = new ProtocolReader(message, MessageType.ParityQueries);
            var w = new ProtocolWriter().Begin(MessageType.ParityQueries);
            w.WriteVarInt64(reader.ReadVarInt64("block id"));
            build(w);
            return w.Message.ToArray();
        };
    };

    private static void Query(ProtocolWriter w, int frame, int pass, int start, int length)
    {
        w.WriteVarInt64(frame);
        w.WriteVarInt64(1);
        w.WriteVarInt64(pass);
        w.WriteVarInt64(start);
        w.WriteVarInt64(length);
    }

    public static TheoryData<string, string> MalformedQueries => new()
    {
        { "no frames", "a round names 1 to 8" },
        { "frame beyond the block", "parity queries for frame 8; the block has frames 0..7" },
        { "frame listed twice", "frame 3 follows frame 3 in one round" },
        { "frames out of order", "frame 2 follows frame 5 in one round" },
        { "frame without queries", "frame 0 is listed with no parity queries" },
        { "bad query in a later frame", "frame 6: invalid parity query: Query 0 names pass 999" },
        { "range outside the frame", "frame 1: invalid parity query: Query 0 asks for range [131071, 131073)" },
        { "trailing byte", "ParityQueries message has 1 unexpected trailing bytes" },
    };

    [Theory]
    [MemberData(nameof(MalformedQueries))]
    public async Task Alice_refuses_a_malformed_round(string fault, string expected)
    {
        var run = await RunAsync(ReplaceFirstQueries(w =>
        {
            switch (fault)
            {
                case "no frames":
                    w.WriteVarInt64(0);
                    break;
                case "frame beyond the block":
                    w.WriteVarInt64(1);
                    Query(w, Frames, 0, 0, 1);
                    break;
                case "frame listed twice":
                    w.WriteVarInt64(2);
                    Query(w, 3, 0, 0, 1);
                    Query(w, 3, 0, 1, 1);
                    break;
                case "frames out of order":
                    w.WriteVarInt64(2);
                    Query(w, 5, 0, 0, 1);
                    Query(w, 2, 0, 0, 1);
                    break;
                case "frame without queries":
                    w.WriteVarInt64(1);
                    w.WriteVarInt64(0);
                    w.WriteVarInt64(0);
                    break;
                case "bad query in a later frame":
                    w.WriteVarInt64(2);
                    Query(w, 0, 0, 0, 1);
                    Query(w, 6, 999, 0, 1);
                    break;
                case "range outside the frame":
                    w.WriteVarInt64(1);
                    Query(w, 1, 0, (1 << 17) - 1, 2);
                    break;
                case "trailing byte":
                    w.WriteVarInt64(1);
                    Query(w, 0, 0, 0, 1);
                    w.WriteByte(0);
                    break;
            }
        }));
        var e = Assert.IsType<ProtocolException>(run.AliceError);
        Assert.Contains(expected, e.Message);
        Assert.IsType<ClassicalChannelClosedException>(run.BobError);
        Assert.Empty(run.AliceKeys.Keys);
    }

    /// <summary>Alice's first ParityAnswers as Bob receives it, taken apart so a test can reassemble it wrongly.</summary>
    private sealed record Answers(long BlockId, List<(long Frame, byte[] Parities)> Groups)
    {
        public static Answers Parse(byte[] message)
        {
            var reader = new ProtocolReader(message, MessageType.ParityAnswers);
            long blockId = reader.ReadVarInt64("block id");
            long groups = reader.ReadVarInt64("groups");
            var list = new List<(long, byte[])>();
            for (int g = 0; g < groups; g++)
            {
                long frame = reader.ReadVarInt64("frame");
                var buffer = new byte[1 << 17];
                int n = reader.ReadPacked("parities", 1, buffer);
                list.Add((frame, buffer[..n]));
            }
            reader.EnsureEnd(MessageType.ParityAnswers);
            return new Answers(blockId, list);
        }

        public byte[] Write()
        {
            var w = new ProtocolWriter().Begin(MessageType.ParityAnswers);
            w.WriteVarInt64(BlockId);
            w.WriteVarInt64(Groups.Count);
            foreach (var (frame, parities) in Groups)
            {
                w.WriteVarInt64(frame);
                w.WritePacked(parities, 1);
            }
            return w.Message.ToArray();
        }
    }

    private static Action<TappedClassicalChannel, TappedClassicalChannel> RewriteFirstAnswers(Func<Answers, Answers> rewrite) => (bob, _) =>
    {
        bool done = false;
        bob.OnReceive = message =>
        {
            if (done || message[0] != (byte)MessageType.ParityAnswers) return message;
            done = true;
            return rewrite(Answers.Parse(message)).Write();
        };
    };

    public static TheoryData<string, string> MismatchedAnswers => new()
    {
        { "another block", "Parity answers for block 1 while block 0 is being corrected" },
        { "a frame missing", "Alice answered 7 frames, 8 asked in this round" },
        { "frames swapped", "answer group 0 is for frame 1, but frame 0 asked there" },
        { "a parity missing", "Alice answered" },
    };

    [Theory]
    [MemberData(nameof(MismatchedAnswers))]
    public async Task Bob_refuses_answers_that_do_not_match_his_round(string fault, string expected)
    {
        var run = await RunAsync(RewriteFirstAnswers(a => fault switch
        {
            "another block" => a with { BlockId = a.BlockId + 1 },
            "a frame missing" => a with { Groups = a.Groups[1..] },
            "frames swapped" => a with { Groups = [a.Groups[1], a.Groups[0], .. a.Groups[2..]] },
            "a parity missing" => a with { Groups = [(a.Groups[0].Frame, a.Groups[0].Parities[1..]), .. a.Groups[1..]] },
            _ => throw new ArgumentException(fault),
        }));
        var e = Assert.IsType<ProtocolException>(run.BobError);
        Assert.Contains(expected, e.Message);
        Assert.Empty(run.BobKeys.Keys);
        Assert.Empty(run.AliceKeys.Keys);
    }

    [Fact]
    public async Task Ends_with_different_frame_sizes_stop_before_any_parity_is_disclosed()
    {
        var run = await RunAsync(bobOptions: Options with { FrameSizeBits = 1 << 16 });
        var e = Assert.IsType<ProtocolException>(run.AliceError);
        Assert.Contains("Bob corrects 16 frames, Alice splits its 1048576 bits into 8 (do both ends use the same frame size?)", e.Message);
        Assert.Equal(0, run.AliceChannel.Count(MessageType.ParityAnswers));
    }

    [Fact]
    public async Task Bob_refuses_seeds_for_another_number_of_frames()
    {
        var run = await RunAsync((bob, _) => bob.OnReceive = message =>
        {
            if (message[0] != (byte)MessageType.CorrectionSeed) return message;
            var reader = new ProtocolReader(message, MessageType.CorrectionSeed);
            var w = new ProtocolWriter().Begin(MessageType.CorrectionSeed);
            w.WriteVarInt64(reader.ReadVarInt64("block id"));
            w.WriteVarInt64(reader.ReadVarInt64("frames") - 1);
            for (int f = 0; f < Frames - 1; f++) w.WriteUInt64(reader.ReadUInt64("seed"));
            return w.Message.ToArray();
        });
        var e = Assert.IsType<ProtocolException>(run.BobError);
        Assert.Contains("Alice sent correction seeds for 7 frames, Bob corrects 8", e.Message);
    }
}
