using CsCheck;
using Qkd.Core.Bits;
using Qkd.Distillation.Messages;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Tests.Messages;

/// <summary>The LDPC and round-trip messages: round trips for any content, every malformation refused.</summary>
public class LdpcMessagesTests
{
    private static PackedBits Bits(int length, ulong seed)
    {
        var bits = new PackedBits(length);
        var random = new Qkd.Core.Random.Xoshiro256StarStar(seed);
        for (int i = 0; i < length; i++) if ((random.NextUInt64() & 1) != 0) bits.Set(i, true);
        return bits;
    }

    [Fact]
    public void LdpcStart_round_trips()
    {
        Gen.Select(Gen.Long[0, long.MaxValue], Gen.Int[0, int.MaxValue], Gen.Double).Sample((blockId, frames, qber) =>
        {
            var start = new LdpcStart(blockId, frames, qber);
            byte[] message = start.Write(new ProtocolWriter()).ToArray();
            var back = LdpcStart.Read(message);
            Assert.Equal(start, back);
            Assert.Equal(BitConverter.DoubleToInt64Bits(qber), BitConverter.DoubleToInt64Bits(back.QberEstimate));
            WireChecks.MalformedIsRejected(message, LdpcStart.Type, m => LdpcStart.Read(m));
        });
    }

    [Fact]
    public void LdpcSyndromes_round_trip_and_refuse_another_length()
    {
        Gen.Select(Gen.Long[0, 1L << 40], Gen.Int[1, 700].Array[1, 4], Gen.ULong).Sample((blockId, lengths, seed) =>
        {
            var syndromes = lengths.Select((l, i) => Bits(l, seed + (ulong)i)).ToArray();
            byte[] message = new LdpcSyndromes(blockId, syndromes).Write(new ProtocolWriter()).ToArray();
            var back = LdpcSyndromes.Read(message, lengths);
            Assert.Equal(blockId, back.BlockId);
            for (int f = 0; f < lengths.Length; f++) Assert.True(syndromes[f].ContentEquals(back.Syndromes[f]));
            WireChecks.MalformedIsRejected(message, LdpcSyndromes.Type, m => LdpcSyndromes.Read(m, lengths));
            var longer = lengths.Select(l => l + 1).ToArray();
            Assert.Throws<ProtocolException>(() => LdpcSyndromes.Read(message, longer));
            Assert.Throws<ProtocolException>(() => LdpcSyndromes.Read(message, lengths.Concat([5]).ToArray()));
        });
    }

    [Fact]
    public void LdpcRevealRequest_and_LdpcReveal_round_trip()
    {
        Gen.Select(Gen.Long[0, 1L << 40], Gen.Int[1, 40].Array[1, 6], Gen.ULong).Sample((blockId, counts, seed) =>
        {
            var frames = counts.Select((c, i) => (Frame: 3 * i + 1, Bits: c)).ToArray();
            var request = new LdpcRevealRequest(blockId, frames);
            byte[] message = request.Write(new ProtocolWriter()).ToArray();
            var back = LdpcRevealRequest.Read(message, 3 * counts.Length + 1);
            Assert.Equal(blockId, back.BlockId);
            Assert.Equal(frames, back.Frames);
            WireChecks.MalformedIsRejected(message, LdpcRevealRequest.Type, m => LdpcRevealRequest.Read(m, 3 * counts.Length + 1));
            // A frame beyond the block is refused.
            Assert.Throws<ProtocolException>(() => LdpcRevealRequest.Read(message, 3 * counts.Length - 2));

            var revealed = frames.Select((f, i) => (f.Frame, Bits(f.Bits, seed + (ulong)i))).ToArray();
            byte[] reply = new LdpcReveal(blockId, revealed).Write(new ProtocolWriter()).ToArray();
            var answer = LdpcReveal.Read(reply, request);
            for (int g = 0; g < frames.Length; g++)
            {
                Assert.Equal(frames[g].Frame, answer.Frames[g].Frame);
                Assert.True(revealed[g].Item2.ContentEquals(answer.Frames[g].Bits));
            }
            WireChecks.MalformedIsRejected(reply, LdpcReveal.Type, m => LdpcReveal.Read(m, request));
        });
    }

    [Fact]
    public void A_reveal_request_out_of_order_or_of_zero_bits_is_refused()
    {
        var writer = new ProtocolWriter();
        Assert.Throws<ProtocolException>(() => LdpcRevealRequest.Read(new LdpcRevealRequest(1, [(2, 5), (2, 5)]).Write(writer).ToArray(), 4));
        Assert.Throws<ProtocolException>(() => LdpcRevealRequest.Read(new LdpcRevealRequest(1, [(1, 0)]).Write(writer).ToArray(), 4));
        Assert.Throws<ProtocolException>(() => LdpcRevealRequest.Read(new LdpcRevealRequest(1, []).Write(writer).ToArray(), 4));
    }

    [Fact]
    public void RoundTripProbe_round_trips()
    {
        Gen.ULong.Sample(sequence =>
        {
            byte[] message = new RoundTripProbe(sequence).Write(new ProtocolWriter()).ToArray();
            Assert.Equal(sequence, RoundTripProbe.Read(message).Sequence);
            WireChecks.MalformedIsRejected(message, RoundTripProbe.Type, m => RoundTripProbe.Read(m));
        });
    }
}
