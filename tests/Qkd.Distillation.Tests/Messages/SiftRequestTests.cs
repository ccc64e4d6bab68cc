using CsCheck;
using Qkd.Distillation.Messages;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Tests.Messages;

public class SiftRequestTests
{
    // A batch as (gap to the previous pulse, basis): gaps mostly small as in a click stream, some huge.
    private static readonly Gen<(long First, (long Gap, bool X)[] Following)> Batches = Gen.Select(
        Gen.Long[0, 1L << 50],
        Gen.Select(Gen.OneOf(Gen.Long[1, 300], Gen.Long[1, 1L << 40]), Gen.Bool).Array[0, 200]);

    private static (long[] Pulses, byte[] Bases) Expand(long first, (long Gap, bool X)[] rest, bool firstX)
    {
        var pulses = new long[rest.Length + 1];
        var bases = new byte[rest.Length + 1];
        pulses[0] = first;
        bases[0] = firstX ? (byte)1 : (byte)0;
        for (int i = 0; i < rest.Length; i++)
        {
            pulses[i + 1] = pulses[i] + rest[i].Gap;
            bases[i + 1] = rest[i].X ? (byte)1 : (byte)0;
        }
        return (pulses, bases);
    }

    private static SiftRequest Read(byte[] message)
    {
        long[] pulses = [];
        byte[] bases = [];
        return SiftRequest.Read(message, ref pulses, ref bases);
    }

    [Fact]
    public void Round_trips_and_refuses_every_truncation()
    {
        Gen.Select(Batches, Gen.Bool).Sample((batch, firstX) =>
        {
            var (pulses, bases) = Expand(batch.First, batch.Following, firstX);
            byte[] message = new SiftRequest(pulses, bases).Write(new ProtocolWriter()).ToArray();

            // Buffers larger than the batch are reused, not replaced; the message views their start.
            long[] pulseBuffer = new long[pulses.Length + 7];
            byte[] basisBuffer = new byte[bases.Length + 7];
            long[] originalPulseBuffer = pulseBuffer;
            var back = SiftRequest.Read(message, ref pulseBuffer, ref basisBuffer);
            Assert.Same(originalPulseBuffer, pulseBuffer);
            Assert.Equal(pulses, back.Pulses.ToArray());
            Assert.Equal(bases, back.Bases.ToArray());

            WireChecks.MalformedIsRejected(message, SiftRequest.Type, m => Read(m));
        });
    }

    [Fact]
    public void An_empty_batch_round_trips()
    {
        byte[] message = new SiftRequest(ReadOnlyMemory<long>.Empty, ReadOnlyMemory<byte>.Empty).Write(new ProtocolWriter()).ToArray();
        Assert.Equal("010000", Convert.ToHexString(message));
        Assert.Equal(0, Read(message).Count);
    }

    [Fact]
    public void Read_grows_buffers_that_are_too_small()
    {
        byte[] message = new SiftRequest(new long[] { 4, 9, 10 }, new byte[] { 1, 0, 1 }).Write(new ProtocolWriter()).ToArray();
        long[] pulses = new long[1];
        byte[] bases = new byte[2];
        var back = SiftRequest.Read(message, ref pulses, ref bases);
        Assert.True(pulses.Length >= 3 && bases.Length >= 3);
        Assert.Equal(new long[] { 4, 9, 10 }, back.Pulses.ToArray());
        Assert.Equal(new byte[] { 1, 0, 1 }, back.Bases.ToArray());
    }

    [Fact]
    public void Wire_format_is_pinned()
    {
        // Count 3; first pulse 1,000,000 as a varint (C0 84 3D), gaps 1 and 299 (AB 02); 3 bases Z X X packed LSB first (06).
        var message = new SiftRequest(new long[] { 1_000_000, 1_000_001, 1_000_300 }, new byte[] { 0, 1, 1 }).Write(new ProtocolWriter());
        Assert.Equal("0103C0843D01AB020306", WireChecks.Hex(message));
    }

    public static TheoryData<string, string> Malformed => new()
    {
        // count 2^24 + 1: more than a sift batch may hold
        { "01818080080000", "more than the allowed 16777216" },
        // count 5 with two bytes after it: a count the message cannot hold
        { "01050100", "but only 2 bytes follow" },
        // pulses 100 then a gap of 0: the same pulse twice
        { "010264000200", "repeats or reorders pulse 100 (after pulse 100)" },
        // pulse 2^63 - 1 then a gap of 1: past the largest pulse index
        { "0102FFFFFFFFFFFFFFFF7F010200", "overflows the pulse index" },
        // 2 pulses but 1 basis
        { "010201010100", "lists 2 pulses but 1 bases" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_requests_are_refused_with_the_reason(string hex, string expected)
    {
        var e = Assert.Throws<ProtocolException>(() => Read(Convert.FromHexString(hex)));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Writer_refuses_what_the_reader_would_refuse()
    {
        var writer = new ProtocolWriter();
        Assert.Throws<ArgumentException>(() => new SiftRequest(new long[] { 5, 5 }, new byte[] { 0, 0 }).Write(writer));
        Assert.Throws<ArgumentException>(() => new SiftRequest(new long[] { 5, 4 }, new byte[] { 0, 0 }).Write(writer));
        Assert.Throws<ArgumentException>(() => new SiftRequest(new long[] { -1 }, new byte[] { 0 }).Write(writer));
        Assert.Throws<ArgumentException>(() => new SiftRequest(new long[] { 1 }, new byte[] { 2 }));
        Assert.Throws<ArgumentException>(() => new SiftRequest(new long[] { 1, 2 }, new byte[] { 0 }));
    }
}
