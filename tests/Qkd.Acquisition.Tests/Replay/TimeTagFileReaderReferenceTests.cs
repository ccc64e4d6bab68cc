using CsCheck;
using Qkd.Acquisition.Replay;
using Qkd.Core.TimeTags;
using Qkd.Reference;

namespace Qkd.Acquisition.Tests.Replay;

/// <summary>
/// The record decoder and the reader as rewritten for issue 14 (chunks decoded straight into the caller's buffer, the
/// chunk's time span and overflow tags from the decoder) against the former ones
/// (tests/Shared/Reference/ReferenceTimeTagFileReader.cs): the same tags, the same refusals, the same counters and
/// integrity report, on valid and damaged input.
/// </summary>
public class TimeTagFileReaderReferenceTests
{
    private static readonly Gen<long> Step = Gen.OneOf(Gen.Long[0, 200_000], Gen.Long[0, 5000], Gen.Long[0, 1L << 50], Gen.Long);

    /// <summary>Tags of every shape the format has: small and escaped channels, all kinds, missed counts, any step.</summary>
    private static readonly Gen<TimeTag[]> Tags =
        Gen.Select(Gen.Long, Gen.Select(Step, Gen.OneOf(Gen.UShort[0, 4], Gen.UShort[0, 40], Gen.UShort), Gen.Int[0, 3], Gen.OneOf(Gen.Const(0u), Gen.Const(0u), Gen.UInt))
            .Array[0, 3000], (start, records) =>
        {
            var tags = new TimeTag[records.Length];
            long t = start;
            for (int i = 0; i < records.Length; i++)
            {
                t = unchecked(t + records[i].Item1);
                var kind = (TimeTagKind)records[i].Item3;
                tags[i] = new TimeTag(t, records[i].Item2, kind, kind == TimeTagKind.Rising ? 0 : records[i].Item4);
            }
            return tags;
        });

    /// <summary>A chunk payload as the writer encodes it, then possibly damaged: bytes changed, cut or added.</summary>
    private static readonly Gen<(byte[] Payload, long Base, int Count)> Payloads =
        Gen.Select(Tags, Gen.Int[0, 5], Gen.Int[0, 1 << 20], Gen.Byte, Gen.Int[-2, 2]).Select((tags, damage, where, value, countError) =>
        {
            var buffer = new byte[tags.Length * TimeTagFileLayout.MaxRecordBytes + 16];
            int position = 0;
            long previous = 12345;
            foreach (var tag in tags)
            {
                position = TimeTagRecordCodec.Encode(buffer, position, tag, tag.TimePs, previous);
                previous = tag.TimePs;
            }
            var payload = buffer[..position];
            int at = payload.Length == 0 ? 0 : where % payload.Length;
            payload = damage switch
            {
                1 when payload.Length > 0 => Set(payload, at, value),
                2 => payload[..at],
                3 => [.. payload, value],
                4 when payload.Length > 0 => Set(payload, at, (byte)(payload[at] | 0x80)),
                _ => payload,
            };
            return (payload, 12345L, Math.Max(0, tags.Length + (damage == 5 ? countError : 0)));
        });

    private static byte[] Set(byte[] bytes, int at, byte value)
    {
        bytes[at] = value;
        return bytes;
    }

    [Fact]
    public void The_chunk_decoder_matches_the_former_one_on_valid_and_damaged_payloads()
    {
        Gen.Select(Payloads, Gen.OneOf(Gen.Const(1u), Gen.UInt[1, 100_000])).Sample((input, resolution) =>
        {
            var expected = new TimeTag[input.Count];
            var actual = new TimeTag[input.Count];
            bool expectedOk = ReferenceTimeTagFileReader.ReferenceDecodeChunk(input.Payload, input.Base, resolution, expected);
            bool actualOk = TimeTagRecordCodec.DecodeChunk(input.Payload, input.Base, resolution, actual, out var summary);
            Assert.Equal(expectedOk, actualOk);
            if (!expectedOk) return;
            Assert.Equal(expected, actual);
            if (expected.Length == 0) return;
            Assert.Equal(expected.Min(t => t.TimePs), summary.MinPs);
            Assert.Equal(expected.Max(t => t.TimePs), summary.MaxPs);
            Assert.Equal(expected.Any(t => t.Kind is TimeTagKind.OverflowBegin or TimeTagKind.OverflowEnd), summary.HasOverflowTags);
        }, iter: 3000);
    }

    [Fact]
    public void Random_varints_of_every_length_decode_as_before()
    {
        // Deltas of every size (1 to 10 varint bytes), of either sign.
        Gen.Select(Gen.Int[0, 63].Select(bits => Gen.Long[0, bits == 63 ? long.MaxValue : (1L << bits)]).SelectMany(g => g).Array[1, 200], Gen.Bool.Array[200])
            .Sample((steps, negative) =>
            {
                var tags = new TimeTag[steps.Length];
                long t = 0;
                for (int i = 0; i < steps.Length; i++)
                {
                    t = unchecked(t + (negative[i] ? -steps[i] : steps[i]));
                    tags[i] = new TimeTag(t, (ushort)(i % 5));
                }
                var buffer = new byte[tags.Length * TimeTagFileLayout.MaxRecordBytes];
                int position = 0;
                long previous = 0;
                foreach (var tag in tags)
                {
                    position = TimeTagRecordCodec.Encode(buffer, position, tag, tag.TimePs, previous);
                    previous = tag.TimePs;
                }
                var actual = new TimeTag[tags.Length];
                Assert.True(TimeTagRecordCodec.DecodeChunk(buffer.AsSpan(0, position), 0, 1, actual, out _));
                Assert.Equal(tags, actual);
            }, iter: 1000);
    }

    [Fact]
    public void The_reader_matches_the_former_one_on_intact_and_damaged_files()
    {
        Gen.Select(Tags, Gen.Int[1, 9000], Gen.Int[0, 4], Gen.Int[0, 1 << 30], Gen.Int[1, 20_000], Gen.Byte).Sample((tags, perChunk, damage, where, batch, value) =>
        {
            byte[] file = TimeTagFileTestData.Write(TimeTagFileTestData.Header(), tags, perChunk);
            int headerEnd = TimeTagFileHeaderCodec.Serialize(TimeTagFileTestData.Header()).Length;
            int at = headerEnd + where % Math.Max(1, file.Length - headerEnd);
            file = damage switch
            {
                1 when at < file.Length => Set(file, at, value),
                2 => file[..Math.Min(at, file.Length)],
                3 when at < file.Length => [.. file[..at], .. file[Math.Min(file.Length, at + 1 + where % 5000)..]],
                _ => file,
            };
            using var expected = new ReferenceTimeTagFileReader(new MemoryStream(file), "f.qtt");
            using var actual = new TimeTagFileReader(new MemoryStream(file), "f.qtt");
            Assert.Equal(TimeTagFileTestData.ReadAll(expected, batch), TimeTagFileTestData.ReadAll(actual, batch));
            Assert.Equal(expected.TagsRead, actual.TagsRead);
            Assert.Equal(expected.ChunksRead, actual.ChunksRead);
            Assert.Equal(expected.CorruptChunks, actual.CorruptChunks);
            Assert.Equal(expected.BytesSkipped, actual.BytesSkipped);
            Assert.Equal(expected.TrailerSeen, actual.TrailerSeen);
            Assert.Equal(expected.TrailerTagCount, actual.TrailerTagCount);
            var e = expected.Integrity;
            var a = actual.Integrity;
            Assert.Equal(e with { Damage = [] }, a with { Damage = [] });
            Assert.Equal(e.Damage, a.Damage);
        }, iter: 400);
    }
}
