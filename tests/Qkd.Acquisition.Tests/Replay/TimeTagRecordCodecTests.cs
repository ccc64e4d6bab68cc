using CsCheck;
using Qkd.Acquisition.Replay;
using Qkd.Core.TimeTags;
using Qkd.Reference;

namespace Qkd.Acquisition.Tests.Replay;

/// <summary>
/// The record decoder's word-wide path (issue 14: a record decoded from one 64-bit load) against the byte-wise decoder
/// it sits in front of (tests/Shared/Reference/PreTagPathRecordCodec.cs, main at 5edd6ce): the same tags, summary and
/// refusals on written payloads (short and long deltas, escaped channels, missed events, every kind), on the same
/// payloads damaged, and on random bytes (overlong and non-minimal varints, records cut at the payload's end).
/// </summary>
public sealed class TimeTagRecordCodecTests
{
    private static readonly Gen<long> Step = Gen.OneOf(Gen.Long[0, 120], Gen.Long[0, 200_000], Gen.Long[-5000, 5000], Gen.Long[0, 1L << 50], Gen.Long);

    private static readonly Gen<(byte[] Payload, int Count)> Written =
        Gen.Select(Step, Gen.OneOf(Gen.UShort[0, 4], Gen.UShort[0, 40], Gen.UShort), Gen.OneOf(Gen.Const(0), Gen.Int[0, 3]), Gen.OneOf(Gen.Const(0u), Gen.UInt))
            .Array[0, 600].Select(records =>
            {
                var buffer = new byte[records.Length * TimeTagFileLayout.MaxRecordBytes];
                int position = 0;
                long previous = 777, t = 777;
                foreach (var (step, channel, kind, missed) in records)
                {
                    t = unchecked(t + step);
                    var tag = new TimeTag(t, channel, (TimeTagKind)kind, kind == 0 ? 0 : missed);
                    position = TimeTagRecordCodec.Encode(buffer, position, tag, t, previous);
                    previous = t;
                }
                return (buffer[..position], records.Length);
            });

    /// <summary>Written payloads, some damaged (a byte set, a high bit set, cut, extended), and random bytes.</summary>
    private static readonly Gen<(byte[] Payload, int Count)> Payloads = Gen.OneOf(
        Written,
        Gen.Select(Written, Gen.Int[0, 3], Gen.Int[0, int.MaxValue], Gen.Byte).Select((written, damage, where, value) =>
        {
            var (payload, count) = written;
            if (payload.Length == 0) return written;
            int at = where % payload.Length;
            var copy = (byte[])payload.Clone();
            switch (damage)
            {
                case 0: copy[at] = value; return (copy, count);
                case 1: copy[at] |= 0x80; return (copy, count);
                case 2: return (copy[..at], count);
                default: return ([.. copy, value], count);
            }
        }),
        Gen.OneOf(Gen.Byte[0, 255], Gen.Byte[0x80, 0xFF], Gen.Byte[0, 0x7F]).Array[0, 300].Select(bytes => (bytes, bytes.Length / 3)));

    [Fact]
    public void Chunks_decode_to_the_same_tags_summary_and_refusals_as_before()
    {
        Gen.Select(Payloads, Gen.OneOf(Gen.Const(0), Gen.Int[-3, 3]), Gen.OneOf(Gen.Const(1u), Gen.UInt[1, 100_000], Gen.UInt)).Sample((input, countError, resolution) =>
        {
            // The record count the chunk header states: the written one, or a few off.
            var payload = input.Payload;
            int count = Math.Max(0, input.Count + countError);
            var expected = new TimeTag[count];
            var actual = new TimeTag[count];
            bool expectedOk = PreTagPathRecordCodec.DecodeChunk(payload, 5, resolution, expected, out var expectedSummary);
            bool actualOk = TimeTagRecordCodec.DecodeChunk(payload, 5, resolution, actual, out var actualSummary);
            Assert.Equal(expectedOk, actualOk);
            Assert.Equal(expectedSummary, actualSummary);
            if (expectedOk) Assert.Equal(expected, actual);
        }, iter: 2000);
    }
}
