using CsCheck;
using Qkd.Protocol;

namespace Qkd.Protocol.Tests;

/// <summary>
/// The byte-stream and packet decoders under arbitrary chunking, corruption and garbage: they never throw or grow,
/// resynchronise at the next frame, and count every frame they reject.
/// </summary>
public class FrameDecoderTests
{
    private static byte[] Raw((FrameHeader Header, byte[] Payload) f)
    {
        var raw = new byte[FrameCodec.FrameLength(f.Payload.Length)];
        FrameCodec.Encode(f.Header, f.Payload, raw);
        return raw;
    }

    private static byte[] Encoded(byte[] raw)
    {
        var encoded = new byte[Cobs.MaxEncodedLength(raw.Length) + 1];
        int n = Cobs.Encode(raw, encoded);
        return encoded[..(n + 1)]; // the last byte is already the 0x00 delimiter
    }

    private static readonly Gen<(FrameHeader Header, byte[] Payload)> SmallFrames =
        Gen.Select(Gen.Byte[0, 3], Gen.Byte, CobsAndFrameCodecTests.ValidFlags, Gen.UInt, Gen.Byte.Array[0, 300], (c, t, f, s, p) =>
            (new FrameHeader((DeviceClass)c, (MessageType)t, f, s, p.Length), p));

    private static List<byte[]> Chunk(byte[] data, int[] sizes)
    {
        var chunks = new List<byte[]>();
        for (int at = 0, i = 0; at < data.Length; i++)
        {
            int size = Math.Min(sizes[i % sizes.Length], data.Length - at);
            chunks.Add(data[at..(at + size)]);
            at += size;
        }
        return chunks;
    }

    [Fact]
    public void Stream_decoder_gives_the_same_frames_whatever_the_chunking()
    {
        Gen.Select(SmallFrames.List[1, 20], Gen.Int[1, 700].Array[1, 30]).Sample((frames, sizes) =>
        {
            byte[] stream = frames.SelectMany(f => Encoded(Raw(f))).ToArray();
            var decoder = new StreamFrameDecoder();
            var collector = new FrameCollector();
            foreach (byte[] chunk in Chunk(stream, sizes)) decoder.Push(chunk, collector);
            Assert.Equal(frames.Select(f => f.Header), collector.Frames.Select(f => f.Header));
            Assert.Equal(frames.Select(f => Convert.ToHexString(f.Payload)), collector.Frames.Select(f => Convert.ToHexString(f.Payload)));
            Assert.Equal(0, decoder.Counters.FramesRejected);
            Assert.Equal(stream.Length, decoder.Counters.BytesReceived);
        }, iter: 300, seed: "0kJ3s9Dd1mQa");
    }

    private enum Mutation { BitFlip, Insert, Delete, Truncate, Overwrite }

    /// <summary>
    /// N frames, k of them corrupted inside their encoding (never their delimiter): exactly the N - k intact frames are
    /// accepted, in order; each corrupted one costs at least one reject; accepted + rejected = the delimited frames.
    /// </summary>
    [Fact]
    public void Stream_decoder_counts_every_corrupted_frame_and_resynchronises()
    {
        var gen = Gen.Select(SmallFrames.List[2, 15], Gen.Int.Array[15], Gen.Int[1, 500].Array[1, 10]);
        gen.Sample((frames, dice, sizes) =>
        {
            var random = new Random(dice[0]);
            var segments = new List<byte[]>();
            var intact = new List<FrameHeader>();
            int corrupted = 0;
            for (int i = 0; i < frames.Count; i++)
            {
                byte[] encoded = Encoded(Raw(frames[i]));
                byte[] body = encoded[..^1];
                if (random.Next(3) == 0)
                {
                    body = Mutate(body, (Mutation)random.Next(5), random);
                    corrupted++;
                }
                else
                {
                    intact.Add(frames[i].Header);
                }
                segments.Add([.. body, 0]);
            }
            byte[] stream = segments.SelectMany(s => s).ToArray();
            int delimited = CountNonEmptySegments(stream);
            var decoder = new StreamFrameDecoder();
            var collector = new FrameCollector();
            foreach (byte[] chunk in Chunk(stream, sizes)) decoder.Push(chunk, collector);
            Assert.Equal(intact, collector.Frames.Select(f => f.Header));
            Assert.Equal(frames.Count - corrupted, decoder.Counters.FramesAccepted);
            Assert.True(decoder.Counters.FramesRejected >= corrupted, $"{decoder.Counters.FramesRejected} rejects for {corrupted} corrupted frames");
            Assert.Equal(delimited, decoder.Counters.FramesAccepted + decoder.Counters.FramesRejected);
        }, iter: 500, seed: "0Ps8vN2wLq7e");
    }

    /// <summary>Corrupts an encoded frame (delimiter removed) so that it cannot decode to the same frame.</summary>
    private static byte[] Mutate(byte[] body, Mutation mutation, Random random)
    {
        var list = body.ToList();
        int at = random.Next(list.Count);
        switch (mutation)
        {
            case Mutation.BitFlip:
                list[at] ^= (byte)(1 << random.Next(8));
                break;
            case Mutation.Insert:
                // A delimiter inserted in front of the frame only adds an empty segment (padding) before it: the frame
                // still decodes, so that insert is no corruption (it made this property fail about once in 40,000 frames).
                byte inserted;
                do inserted = (byte)random.Next(256); while (at == 0 && inserted == 0);
                list.Insert(at, inserted);
                break;
            case Mutation.Delete:
                list.RemoveAt(at);
                break;
            case Mutation.Truncate:
                at = Math.Max(1, at); // cut, not removed entirely (an empty frame is padding, not a frame)
                list.RemoveRange(at, list.Count - at);
                break;
            case Mutation.Overwrite:
                byte value;
                do value = (byte)random.Next(256); while (value == list[at]);
                list[at] = value;
                break;
        }
        return list.ToArray();
    }

    private static int CountNonEmptySegments(byte[] stream)
    {
        int count = 0, length = 0;
        foreach (byte b in stream)
        {
            if (b != 0) { length++; continue; }
            if (length > 0) count++;
            length = 0;
        }
        return count;
    }

    [Fact]
    public void Stream_decoder_survives_random_bytes_and_then_decodes_a_good_frame()
    {
        byte[] good = Encoded(Raw((new FrameHeader(DeviceClass.Any, MessageType.Ping, FrameFlags.None, 77, 3), [1, 2, 3])));
        Gen.Select(Gen.Byte.Array[0, 5000], Gen.Int[1, 900].Array[1, 10]).Sample((noise, sizes) =>
        {
            var decoder = new StreamFrameDecoder();
            var collector = new FrameCollector();
            foreach (byte[] chunk in Chunk([.. noise, 0, .. good], sizes)) decoder.Push(chunk, collector);
            Assert.Equal(77u, collector.Frames[^1].Header.Sequence);
            Assert.Equal(noise.Length + 1 + good.Length, decoder.Counters.BytesReceived);
            Assert.True(decoder.Counters.FramesAccepted + decoder.Counters.FramesRejected <= CountNonEmptySegments([.. noise, 0, .. good]));
        }, iter: 500, seed: "0Hq2b7Xs9cVe");
    }

    private struct NoHandler : IFrameHandler
    {
        public int Frames;
        public void OnFrame(in FrameHeader header, ReadOnlySpan<byte> payload) => Frames++;
    }

    [Fact]
    public void Ten_megabytes_without_a_delimiter_do_not_grow_memory_and_a_frame_still_decodes_after_them()
    {
        var decoder = new StreamFrameDecoder();
        var garbage = new byte[64 * 1024];
        new Random(7).NextBytes(garbage);
        for (int i = 0; i < garbage.Length; i++) if (garbage[i] == 0) garbage[i] = 0x5A;
        var handler = new NoHandler();
        decoder.Push(garbage.AsSpan(0, 10), handler); // warm up (JIT) before measuring
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int sent = 0; sent < 10 * 1024 * 1024; sent += garbage.Length) decoder.Push(garbage, handler);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 16 * 1024, $"pushing 10 MB of garbage allocated {allocated} bytes");
        Assert.Equal(1, decoder.Counters.TooLong); // one over-long frame, counted once
        Assert.Equal(0, handler.Frames);

        var collector = new FrameCollector();
        byte[] good = Encoded(Raw((new FrameHeader(DeviceClass.TimeTagger, MessageType.GetStatus, FrameFlags.None, 9, 0), [])));
        decoder.Push([0, .. good], collector);
        Assert.Equal(9u, Assert.Single(collector.Frames).Header.Sequence);
        Assert.Equal(1, decoder.Counters.FramesRejected);
    }

    [Fact]
    public void Stream_decoder_reset_forgets_a_partial_frame()
    {
        byte[] good = Encoded(Raw((new FrameHeader(DeviceClass.Any, MessageType.Identify, FrameFlags.None, 1, 0), [])));
        var decoder = new StreamFrameDecoder();
        var collector = new FrameCollector();
        decoder.Push(good.AsSpan(0, 5), collector);
        decoder.Reset();
        decoder.Push(good, collector);
        Assert.Single(collector.Frames);
        Assert.Equal(0, decoder.Counters.FramesRejected);
        Assert.Equal(5, decoder.Counters.BytesDiscarded);
    }

    [Fact]
    public void Packet_decoder_gives_the_same_frames_whatever_the_grouping_into_transfers()
    {
        Gen.Select(SmallFrames.List[1, 20], Gen.Int[1, 5].Array[1, 10]).Sample((frames, groups) =>
        {
            var decoder = new PacketFrameDecoder();
            var collector = new FrameCollector();
            int at = 0;
            for (int g = 0; at < frames.Count; g++)
            {
                int take = Math.Min(groups[g % groups.Length], frames.Count - at);
                decoder.Push(frames.Skip(at).Take(take).SelectMany(Raw).ToArray(), collector);
                at += take;
            }
            Assert.Equal(frames.Select(f => f.Header), collector.Frames.Select(f => f.Header));
            Assert.Equal(0, decoder.Counters.FramesRejected);
        }, iter: 300, seed: "0Tn4k2Lb8xWq");
    }

    /// <summary>
    /// Transfers of several frames, some transfers with one frame corrupted: the frames before the corrupted one are
    /// accepted, the rest of that transfer is discarded as exactly one reject, other transfers are untouched.
    /// </summary>
    [Fact]
    public void Packet_decoder_counts_one_reject_per_corrupted_transfer_and_resyncs_at_the_next()
    {
        Gen.Select(SmallFrames.List[1, 6].List[1, 8], Gen.Int).Sample((transfers, seed) =>
        {
            var random = new Random(seed);
            var decoder = new PacketFrameDecoder();
            var collector = new FrameCollector();
            var expected = new List<FrameHeader>();
            int corruptedTransfers = 0;
            foreach (var transfer in transfers)
            {
                int bad = random.Next(2) == 0 ? random.Next(transfer.Count) : -1;
                var bytes = new List<byte>();
                for (int i = 0; i < transfer.Count; i++)
                {
                    byte[] raw = Raw(transfer[i]);
                    if (i == bad)
                    {
                        byte[] original = raw;
                        raw = Mutate(raw, (Mutation)random.Next(5), random);
                        // An inserted byte equal to the one it pushes out of the frame leaves the frame intact and adds
                        // one byte of garbage after it (1 in 256 inserts): the frame is accepted, the garbage rejected.
                        if (raw.Length > original.Length && raw.AsSpan(0, original.Length).SequenceEqual(original))
                            expected.Add(transfer[i].Header);
                    }
                    else if (bad < 0 || i < bad) expected.Add(transfer[i].Header);
                    bytes.AddRange(raw);
                }
                if (bad >= 0) corruptedTransfers++;
                decoder.Push(bytes.ToArray(), collector);
            }
            Assert.Equal(expected, collector.Frames.Select(f => f.Header));
            Assert.Equal(corruptedTransfers, decoder.Counters.FramesRejected);
        }, iter: 500, seed: "0Rb3d8Kq1zXm");
    }

    [Fact]
    public void Packet_decoder_survives_random_transfers()
    {
        Gen.Byte.Array[0, 3000].Array[1, 10].Sample(transfers =>
        {
            var decoder = new PacketFrameDecoder();
            var collector = new FrameCollector();
            foreach (byte[] t in transfers) decoder.Push(t, collector);
            Assert.True(decoder.Counters.FramesRejected <= transfers.Count(t => t.Length > 0));
            Assert.Equal(transfers.Sum(t => t.Length), decoder.Counters.BytesReceived);
        }, iter: 1000, seed: "0Ac7f2Mv9qLs");
    }
}
