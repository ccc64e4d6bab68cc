using System.Text;
using CsCheck;
using Qkd.Core.TimeTags;
using Qkd.Protocol;
using Qkd.Protocol.Messages;

namespace Qkd.Protocol.Tests;

public class MessageCodecTests
{
    private static readonly Gen<TimeTag> Tags = Gen.Select(Gen.Long, Gen.UShort, Gen.Byte[0, 3], Gen.UInt, (t, c, k, m) => new TimeTag(t, c, (TimeTagKind)k, m));

    [Fact]
    public void Tag_records_round_trip()
    {
        Tags.Array[0, 300].Sample(tags =>
        {
            var payload = new byte[tags.Length * TagRecordCodec.RecordLength];
            Assert.Equal(payload.Length, TagRecordCodec.Write(tags, payload));
            var back = new TimeTag[tags.Length];
            Assert.Equal(tags.Length, TagRecordCodec.Read(payload, back, out string? error));
            Assert.Null(error);
            Assert.Equal(tags, back);
        }, iter: 300, seed: "0Tg5r2Ls8Kqa");
        Assert.Equal(4095, TagRecordCodec.MaxRecordsPerFrame);
    }

    [Fact]
    public void Tag_records_with_a_bad_length_kind_or_reserved_byte_are_rejected_whole()
    {
        var tags = new TimeTag[] { new(1000, 0), new(2000, 1), new(3000, 2) };
        var payload = new byte[48];
        TagRecordCodec.Write(tags, payload);
        var destination = new TimeTag[3];
        Assert.Equal(-1, TagRecordCodec.Read(payload.AsSpan(0, 47), destination, out string? error));
        Assert.Contains("whole number of 16-byte records", error);
        for (int kind = 4; kind < 256; kind += 17)
        {
            byte[] bad = (byte[])payload.Clone();
            bad[16 + 10] = (byte)kind;
            Assert.Equal(-1, TagRecordCodec.Read(bad, destination, out error));
            Assert.Contains("record 1", error);
        }
        byte[] reserved = (byte[])payload.Clone();
        reserved[32 + 11] = 1;
        Assert.Equal(-1, TagRecordCodec.Read(reserved, destination, out error));
        Assert.Contains("record 2", error);
        Assert.Throws<ArgumentException>(() => TagRecordCodec.Read(payload, new TimeTag[2], out _));
    }

    [Fact]
    public void Symbol_blocks_round_trip_low_nibble_first()
    {
        Gen.Select(Gen.Long[0, long.MaxValue], Gen.Byte[0, 15].Array[0, 500]).Sample((first, symbols) =>
        {
            if (symbols.Length % 2 != 0) symbols = symbols[..^1];
            var payload = new byte[SymbolBlockCodec.PayloadLength(symbols.Length)];
            SymbolBlockCodec.WriteHeader(payload, first);
            SymbolBlockCodec.Pack(symbols, payload.AsSpan(SymbolBlockCodec.HeaderLength));
            Assert.Equal(first, SymbolBlockCodec.ReadFirstPulse(payload));
            ReadOnlySpan<byte> packed = payload.AsSpan(SymbolBlockCodec.HeaderLength);
            for (int i = 0; i < symbols.Length; i++) Assert.Equal(symbols[i], SymbolBlockCodec.SymbolAt(packed, i));
            if (symbols.Length >= 2) Assert.Equal((byte)(symbols[0] | symbols[1] << 4), packed[0]);
        }, iter: 300, seed: "0Sy4m8Bq2Lxe");
        Assert.Equal(131_024, SymbolBlockCodec.MaxSymbolsPerFrame);
        Assert.Equal(ProtocolConstants.MaxPayloadLength, SymbolBlockCodec.PayloadLength(SymbolBlockCodec.MaxSymbolsPerFrame));
    }

    [Fact]
    public void Symbol_blocks_refuse_odd_counts_short_payloads_and_negative_pulses()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => SymbolBlockCodec.PayloadLength(3));
        Assert.Throws<ArgumentOutOfRangeException>(() => SymbolBlockCodec.PayloadLength(SymbolBlockCodec.MaxSymbolsPerFrame + 2));
        Assert.Throws<ArgumentException>(() => SymbolBlockCodec.Pack(new byte[3], new byte[2]));
        Assert.Contains("SymbolData", Assert.Throws<PayloadFormatException>(() => SymbolBlockCodec.ReadFirstPulse(new byte[7])).Message);
        var negative = new byte[8];
        SymbolBlockCodec.WriteHeader(negative, -1);
        Assert.Contains("negative", Assert.Throws<PayloadFormatException>(() => SymbolBlockCodec.ReadFirstPulse(negative)).Message);
    }

    [Fact]
    public void Entropy_blocks_round_trip_and_read_in_place()
    {
        Gen.Select(Gen.Long[0, long.MaxValue], Gen.Byte.Array[1, 600]).Sample((offset, entropy) =>
        {
            var payload = new byte[EntropyBlockCodec.PayloadLength(entropy.Length)];
            EntropyBlockCodec.WriteHeader(payload, offset);
            entropy.CopyTo(payload, EntropyBlockCodec.HeaderLength);
            Assert.Equal(offset, EntropyBlockCodec.Read(payload, out ReadOnlySpan<byte> back));
            Assert.True(back.SequenceEqual(entropy));
            Assert.True(System.Runtime.CompilerServices.Unsafe.AreSame(ref System.Runtime.InteropServices.MemoryMarshal.GetReference(back), ref payload[EntropyBlockCodec.HeaderLength]));
        }, iter: 300, seed: "0En7b3Lq5Kwa");
        Assert.Equal(65_512, EntropyBlockCodec.MaxEntropyBytes);
        Assert.Equal(ProtocolConstants.MaxPayloadLength, EntropyBlockCodec.PayloadLength(EntropyBlockCodec.MaxEntropyBytes));
    }

    [Fact]
    public void Entropy_blocks_refuse_empty_blocks_oversized_blocks_and_negative_offsets()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => EntropyBlockCodec.PayloadLength(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => EntropyBlockCodec.PayloadLength(EntropyBlockCodec.MaxEntropyBytes + 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => EntropyBlockCodec.WriteHeader(new byte[9], -1));
        Assert.Contains("at least 9 expected", Assert.Throws<PayloadFormatException>(() => EntropyBlockCodec.Read(new byte[8], out _)).Message);
        var negative = new byte[9];
        negative.AsSpan(0, 8).Fill(0xFF);
        Assert.Contains("negative", Assert.Throws<PayloadFormatException>(() => EntropyBlockCodec.Read(negative, out _)).Message);
    }

    [Fact]
    public void Rng_health_reports_round_trip_and_say_when_the_device_withholds_output()
    {
        Gen.Select(Gen.UInt, Gen.ULong, Gen.ULong, Gen.ULong, Gen.ULong, Gen.UInt)
            .Select(t => new RngHealthReport((RngHealthFlags)t.Item1, t.Item2, t.Item3, t.Item4, t.Item5, t.Item6))
            .Sample(h => Assert.Equal(h, RngHealthReport.Read(h.ToPayload())), iter: 200, seed: "0Rh4l8Tq3mNc");
        Assert.False(new RngHealthReport(RngHealthFlags.StartupTestPassed, 0, 0, 0, 0, 0).IsFailing);
        Assert.True(new RngHealthReport(RngHealthFlags.StartupTestPassed | RngHealthFlags.ContinuousTestFailure, 0, 1, 0, 0, 0).IsFailing);
        Assert.True(new RngHealthReport(RngHealthFlags.SourceFault, 0, 0, 0, 0, 1).IsFailing);
        Assert.False(new RngHealthReport((RngHealthFlags)0x80, 0, 0, 0, 0, 0).IsFailing); // an unknown bit is no failure
    }

    private static readonly Gen<string> Printable = Gen.Char[' ', '~'].Array[0, 64].Select(c => new string(c));

    [Fact]
    public void Payloads_round_trip()
    {
        Gen.Select(Gen.Byte[1, 4], Gen.Byte, Gen.UShort, Gen.UShort, Gen.Select(Gen.Byte, Gen.Byte, Gen.UShort), Gen.Byte, Printable, Printable,
                (c, protocol, vid, pid, v, channels, serial, model) =>
                    new DeviceIdentity((DeviceClass)c, protocol, vid, pid, new Version(v.Item1, v.Item2, v.Item3), channels, serial, model))
            .Sample(id => Assert.Equal(id, DeviceIdentity.Read(id.ToPayload())), iter: 200, seed: "0Id3n7Kq1xWs");
        Gen.Select(Gen.UInt, Gen.ULong, Gen.ULong, Gen.ULong, Gen.ULong, Gen.ULong, Gen.ULong)
            .Select(t => new DeviceStatus((StatusFlags)t.Item1, t.Item2, t.Item3, t.Item4, t.Item5, t.Item6, t.Item7))
            .Sample(s => Assert.Equal(s, DeviceStatus.Read(s.ToPayload())), iter: 200, seed: "0St8a2Tq5uLm");
        Gen.Select(Gen.UShort, Gen.Byte, Gen.Long).Select(t => new ParameterValue((ParameterId)t.Item1, t.Item2, t.Item3)).Sample(v =>
        {
            Assert.Equal(v, ParameterValue.Read(v.ToPayload()));
            Assert.Equal((v.Id, v.Channel), ParameterValue.ReadAddress(ParameterValue.AddressPayload(v.Id, v.Channel)));
        }, iter: 200, seed: "0Pv6a1Lq9zXe");
        Gen.Select(Gen.UShort, Gen.String[0, 300]).Select(t => new NackPayload((ErrorCode)t.Item1, t.Item2))
            .Sample(n => Assert.Equal(n, NackPayload.Read(n.ToPayload())), iter: 200, seed: "0Nk2c8Vq4bLs");
        Gen.Select(Gen.UInt, Gen.UInt).Select(t => new StatusChange((StatusFlags)t.Item1, (StatusFlags)t.Item2))
            .Sample(c => Assert.Equal(c, StatusChange.Read(c.ToPayload())), iter: 100, seed: "0Sc1h5Gq7eNd");
        Gen.Select(Gen.ULong, Gen.Long, Gen.Long).Select(t => new OverflowReport(t.Item1, t.Item2, t.Item3))
            .Sample(o => Assert.Equal(o, OverflowReport.Read(o.ToPayload())), iter: 100, seed: "0Ov3f9Lq2wRt");
        Gen.Select(Gen.ULong, Gen.UInt).Select(t => new StreamSummary(t.Item1, t.Item2))
            .Sample(s => Assert.Equal(s, StreamSummary.Read(s.ToPayload())), iter: 100, seed: "0Ss5m2Rq8yTu");
        Gen.Select(Gen.Long, Gen.ULong.Array[0, 16]).Sample((window, counts) =>
        {
            var back = DetectorCounts.Read(new DetectorCounts(window, counts).ToPayload());
            Assert.Equal(window, back.WindowPs);
            Assert.Equal(counts, back.Counts);
        }, iter: 100, seed: "0Dc7t3Nq1vKe");
        Assert.True(InterlockChange.Read(new InterlockChange(true).ToPayload()).Open);
        Assert.False(InterlockChange.Read(new InterlockChange(false).ToPayload()).Open);
    }

    public static TheoryData<string, int, string> WrongLengths => new()
    {
        { "identity", 12, "Identify response" },
        { "status", DeviceStatus.Length - 1, "GetStatus response" },
        { "status", DeviceStatus.Length + 1, "GetStatus response" },
        { "address", 2, "GetParameter request" },
        { "value", 10, "parameter value" },
        { "value", 12, "parameter value" },
        { "nack", 1, "nack" },
        { "nack", 2 + NackPayload.MaxTextBytes + 1, "nack" },
        { "statusChange", 7, "StatusChanged event" },
        { "overflow", 23, "Overflow event" },
        { "interlock", 0, "InterlockChanged event" },
        { "interlock", 2, "InterlockChanged event" },
        { "summary", 11, "stream summary" },
        { "counts", 8, "ReadCounts response" },
        { "counts", 18, "ReadCounts response" },
        { "rngHealth", RngHealthReport.Length - 1, "RngHealth" },
        { "rngHealth", RngHealthReport.Length + 1, "RngHealth" },
        { "entropy", 8, "RngEntropyData" },
    };

    [Theory]
    [MemberData(nameof(WrongLengths))]
    public void Wrong_payload_lengths_are_refused_naming_the_message(string codec, int length, string message)
    {
        var payload = new byte[length];
        if (codec == "counts" && length > 8) payload[8] = 2; // two heads announced, one present
        Action read = codec switch
        {
            "identity" => () => DeviceIdentity.Read(payload),
            "status" => () => DeviceStatus.Read(payload),
            "address" => () => ParameterValue.ReadAddress(payload),
            "value" => () => ParameterValue.Read(payload),
            "nack" => () => NackPayload.Read(payload),
            "statusChange" => () => StatusChange.Read(payload),
            "overflow" => () => OverflowReport.Read(payload),
            "interlock" => () => InterlockChange.Read(payload),
            "summary" => () => StreamSummary.Read(payload),
            "counts" => () => DetectorCounts.Read(payload),
            "rngHealth" => () => RngHealthReport.Read(payload),
            "entropy" => () => EntropyBlockCodec.Read(payload, out _),
            _ => throw new ArgumentException(codec),
        };
        var e = Assert.Throws<PayloadFormatException>(read);
        Assert.StartsWith(message, e.Message);
    }

    [Fact]
    public void Identity_refuses_texts_it_cannot_carry()
    {
        var id = new DeviceIdentity(DeviceClass.TimeTagger, 1, 0x1209, 0x7D03, new Version(1, 0, 0), 8, "TT-1", "model");
        Assert.Throws<ArgumentException>(() => (id with { SerialNumber = new string('x', 65) }).ToPayload());
        Assert.Throws<ArgumentException>(() => (id with { Model = "tab\there" }).ToPayload());
        byte[] payload = id.ToPayload();
        payload[12] = 0x01; // a control character inside the serial number
        Assert.Contains("non-printable", Assert.Throws<PayloadFormatException>(() => DeviceIdentity.Read(payload)).Message);
    }

    [Fact]
    public void Nack_text_is_cut_at_1024_bytes_on_a_character_boundary()
    {
        string text = new string('a', NackPayload.MaxTextBytes - 1) + "µµ";
        byte[] payload = new NackPayload(ErrorCode.OutOfRange, text).ToPayload();
        Assert.True(payload.Length - 2 <= NackPayload.MaxTextBytes);
        string back = NackPayload.Read(payload).Text;
        Assert.DoesNotContain('\uFFFD', back);
        Assert.StartsWith(back, text);
        Assert.Equal(Encoding.UTF8.GetByteCount(back), payload.Length - 2);
    }
}
