using System.Buffers.Binary;
using System.Globalization;
using Qkd.Core.TimeTags;
using Qkd.Protocol;
using Qkd.Protocol.Messages;

namespace Qkd.Protocol.Tests;

/// <summary>
/// The "field=value" form of every payload in payloads.txt, both ways, through the host's payload codecs: Render
/// decodes a payload (throwing <see cref="PayloadFormatException"/> where the device must nack MalformedPayload) and
/// Build encodes the fields. Message names are those of payloads.txt ("Identify.response", "ParameterValue", ...).
/// </summary>
public static class PayloadFields
{
    /// <summary>Messages whose payload must be empty.</summary>
    public static readonly string[] EmptyMessages =
    [
        "Identify.request", "GetStatus.request", "ResetSettings.request", "ResetSettings.response", "DetectorReadCounts.request",
        "ModulatorStartEmission.response", "ModulatorStopEmission.request", "TaggerStartStream.request", "TaggerStartStream.response",
        "TaggerStopStream.request", "RngStartStream.request", "RngStartStream.response", "RngStopStream.request", "RngGetHealth.request",
        "DetectorStartBasisModulation.request", "DetectorStartBasisModulation.response", "DetectorStopBasisModulation.request",
    ];

    public const int MaxPingBytes = 64;

    public static string Render(string message, ReadOnlySpan<byte> payload)
    {
        if (EmptyMessages.Contains(message))
        {
            Require(payload.IsEmpty, $"{message}: {payload.Length} bytes, 0 expected.");
            return "";
        }
        switch (message)
        {
            case "Ping":
                Require(payload.Length <= MaxPingBytes, $"Ping: {payload.Length} bytes, at most {MaxPingBytes} expected.");
                return $"data={ProtocolVectors.ToHex(payload, int.MaxValue)}";
            case "Identify.response":
            {
                var id = DeviceIdentity.Read(payload);
                return $"class={(byte)id.DeviceClass} protocol={id.ProtocolVersion} vid=0x{id.VendorId:X4} pid=0x{id.ProductId:X4} " +
                       $"firmware={id.FirmwareVersion} channels={id.ChannelCount} serial={ProtocolVectors.Quote(id.SerialNumber)} model={ProtocolVectors.Quote(id.Model)}";
            }
            case "GetStatus.response":
            {
                var s = DeviceStatus.Read(payload);
                return $"flags=0x{(uint)s.Flags:X8} uptime_ms={s.UptimeMs} frames_received={s.FramesReceived} frames_rejected={s.FramesRejected} " +
                       $"frames_sent={s.FramesSent} items_lost={s.ItemsLost} stream_frames_missed={s.StreamFramesMissed}";
            }
            case "GetParameter.request":
            {
                var (id, channel) = ParameterValue.ReadAddress(payload);
                return $"id=0x{(ushort)id:X4} channel={channel}";
            }
            case "ParameterValue":
            {
                var v = ParameterValue.Read(payload);
                return $"id=0x{(ushort)v.Id:X4} channel={v.Channel} value={v.Value}";
            }
            case "Nack":
            {
                var n = NackPayload.Read(payload);
                return $"code=0x{(ushort)n.Code:X4} text={ProtocolVectors.Quote(n.Text)}";
            }
            case "StatusChanged":
            {
                var c = StatusChange.Read(payload);
                return $"before=0x{(uint)c.Before:X8} after=0x{(uint)c.After:X8}";
            }
            case "Overflow":
            {
                var o = OverflowReport.Read(payload);
                return $"items_lost={o.ItemsLost} begin_ps={o.BeginPs} end_ps={o.EndPs}";
            }
            case "InterlockChanged":
                return $"open={(InterlockChange.Read(payload).Open ? 1 : 0)}";
            case "StreamSummary":
            {
                var s = StreamSummary.Read(payload);
                return $"items={s.Items} frames={s.Frames}";
            }
            case "DetectorReadCounts.response":
            {
                var c = DetectorCounts.Read(payload);
                return $"window_ps={c.WindowPs} counts={List(c.Counts.Select(x => x.ToString(CultureInfo.InvariantCulture)))}";
            }
            case "ModulatorStartEmission.request":
            {
                Require(payload.Length == 8, $"{message}: {payload.Length} bytes, 8 expected (i64 first pulse).");
                long first = BinaryPrimitives.ReadInt64LittleEndian(payload);
                Require(first >= 0, $"{message}: first pulse {first} is negative.");
                return $"first_pulse={first}";
            }
            case "SymbolData":
            {
                long first = SymbolBlockCodec.ReadFirstPulse(payload);
                ReadOnlySpan<byte> packed = payload[SymbolBlockCodec.HeaderLength..];
                var symbols = new string[packed.Length * 2];
                for (int i = 0; i < symbols.Length; i++) symbols[i] = SymbolBlockCodec.SymbolAt(packed, i).ToString(CultureInfo.InvariantCulture);
                return $"first_pulse={first} symbols={List(symbols)}";
            }
            case "BasisData":
            {
                long first = BasisBlockCodec.ReadFirstIndex(payload);
                ReadOnlySpan<byte> packed = payload[BasisBlockCodec.HeaderLength..];
                var bases = new string[packed.Length * 8];
                for (int i = 0; i < bases.Length; i++) bases[i] = ((int)BasisBlockCodec.BasisAt(packed, i)).ToString(CultureInfo.InvariantCulture);
                return $"first_index={first} bases={List(bases)}";
            }
            case "TagData":
            {
                var tags = new TimeTag[payload.Length / TagRecordCodec.RecordLength + 1];
                int count = TagRecordCodec.Read(payload, tags, out string? error);
                Require(count >= 0, error ?? "TagData: invalid");
                return $"tags={List(tags.Take(count).Select(t => $"{t.TimePs}:{t.Channel}:{(byte)t.Kind}:{t.MissedEvents}"))}";
            }
            case "EntropyData":
            {
                long offset = EntropyBlockCodec.Read(payload, out ReadOnlySpan<byte> entropy);
                return $"offset={offset} data={ProtocolVectors.ToHex(entropy, int.MaxValue)}";
            }
            case "RngHealth":
            {
                var h = RngHealthReport.Read(payload);
                return $"flags=0x{(uint)h.Flags:X8} samples_tested={h.SamplesTested} rct_failures={h.RepetitionCountFailures} " +
                       $"apt_failures={h.AdaptiveProportionFailures} bytes_withheld={h.BytesWithheld} source_faults={h.SourceFaults}";
            }
            default:
                throw new ArgumentException($"Unknown message '{message}' in payloads.txt.", nameof(message));
        }
    }

    public static byte[] Build(string message, IReadOnlyDictionary<string, string> f)
    {
        if (EmptyMessages.Contains(message)) return [];
        switch (message)
        {
            case "Ping": return Convert.FromHexString(f["data"] == "empty" ? "" : f["data"]);
            case "Identify.response":
                return new DeviceIdentity((DeviceClass)U(f["class"]), (byte)U(f["protocol"]), (ushort)U(f["vid"]), (ushort)U(f["pid"]),
                    Version.Parse(f["firmware"]), (byte)U(f["channels"]), f["serial"], f["model"]).ToPayload();
            case "GetStatus.response":
                return new DeviceStatus((StatusFlags)U(f["flags"]), U(f["uptime_ms"]), U(f["frames_received"]), U(f["frames_rejected"]),
                    U(f["frames_sent"]), U(f["items_lost"]), U(f["stream_frames_missed"])).ToPayload();
            case "GetParameter.request": return ParameterValue.AddressPayload((ParameterId)U(f["id"]), (byte)U(f["channel"]));
            case "ParameterValue": return new ParameterValue((ParameterId)U(f["id"]), (byte)U(f["channel"]), long.Parse(f["value"], CultureInfo.InvariantCulture)).ToPayload();
            case "Nack": return new NackPayload((ErrorCode)U(f["code"]), f["text"]).ToPayload();
            case "StatusChanged": return new StatusChange((StatusFlags)U(f["before"]), (StatusFlags)U(f["after"])).ToPayload();
            case "Overflow": return new OverflowReport(U(f["items_lost"]), I(f["begin_ps"]), I(f["end_ps"])).ToPayload();
            case "InterlockChanged": return new InterlockChange(f["open"] == "1").ToPayload();
            case "StreamSummary": return new StreamSummary(U(f["items"]), (uint)U(f["frames"])).ToPayload();
            case "DetectorReadCounts.response":
                return new DetectorCounts(I(f["window_ps"]), Items(f["counts"]).Select(U).ToArray()).ToPayload();
            case "ModulatorStartEmission.request":
            {
                var payload = new byte[8];
                BinaryPrimitives.WriteInt64LittleEndian(payload, I(f["first_pulse"]));
                return payload;
            }
            case "SymbolData":
            {
                byte[] symbols = Items(f["symbols"]).Select(s => (byte)U(s)).ToArray();
                var payload = new byte[SymbolBlockCodec.PayloadLength(symbols.Length)];
                SymbolBlockCodec.WriteHeader(payload, I(f["first_pulse"]));
                SymbolBlockCodec.Pack(symbols, payload.AsSpan(SymbolBlockCodec.HeaderLength));
                return payload;
            }
            case "BasisData":
            {
                Core.Basis[] bases = Items(f["bases"]).Select(b => (Core.Basis)U(b)).ToArray();
                var payload = new byte[BasisBlockCodec.PayloadLength(bases.Length)];
                BasisBlockCodec.WriteHeader(payload, I(f["first_index"]));
                BasisBlockCodec.Pack(bases, payload.AsSpan(BasisBlockCodec.HeaderLength));
                return payload;
            }
            case "TagData":
            {
                TimeTag[] tags = Items(f["tags"]).Select(t =>
                {
                    string[] p = t.Split(':');
                    return new TimeTag(I(p[0]), (ushort)U(p[1]), (TimeTagKind)U(p[2]), (uint)U(p[3]));
                }).ToArray();
                var payload = new byte[tags.Length * TagRecordCodec.RecordLength];
                TagRecordCodec.Write(tags, payload);
                return payload;
            }
            case "EntropyData":
            {
                byte[] entropy = Convert.FromHexString(f["data"]);
                var payload = new byte[EntropyBlockCodec.PayloadLength(entropy.Length)];
                EntropyBlockCodec.WriteHeader(payload, I(f["offset"]));
                entropy.CopyTo(payload, EntropyBlockCodec.HeaderLength);
                return payload;
            }
            case "RngHealth":
                return new RngHealthReport((RngHealthFlags)U(f["flags"]), U(f["samples_tested"]), U(f["rct_failures"]), U(f["apt_failures"]),
                    U(f["bytes_withheld"]), (uint)U(f["source_faults"])).ToPayload();
            default:
                throw new ArgumentException($"Unknown message '{message}' in payloads.txt.", nameof(message));
        }
    }

    private static string List(IEnumerable<string> items)
    {
        string joined = string.Join(",", items);
        return joined.Length == 0 ? "-" : joined;
    }

    private static IEnumerable<string> Items(string list) => list == "-" ? [] : list.Split(',');

    private static ulong U(string s) => s.StartsWith("0x", StringComparison.OrdinalIgnoreCase)
        ? ulong.Parse(s[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture)
        : ulong.Parse(s, CultureInfo.InvariantCulture);

    private static long I(string s) => long.Parse(s, CultureInfo.InvariantCulture);

    private static void Require(bool condition, string message)
    {
        if (!condition) throw new PayloadFormatException(message);
    }
}
