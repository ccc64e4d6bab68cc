using Qkd.Protocol;
using Qkd.Protocol.Transport;

namespace Qkd.Protocol.Tests;

/// <summary>Collects the frames a decoder accepts (copies: the decoder's spans do not outlive the call).</summary>
public sealed class FrameCollector : IFrameHandler
{
    public List<(FrameHeader Header, byte[] Payload)> Frames { get; } = [];

    public void OnFrame(in FrameHeader header, ReadOnlySpan<byte> payload) => Frames.Add((header, payload.ToArray()));
}

/// <summary>A transport that records every write (one entry per call) and never reads.</summary>
public sealed class RecordingTransport(FramingKind framing, int maxWriteLength) : IFrameTransport
{
    public List<byte[]> Writes { get; } = [];

    public string Description => "recording transport";
    public FramingKind Framing => framing;
    public int MaxWriteLength => maxWriteLength;

    public void Write(ReadOnlySpan<byte> data)
    {
        Assert.True(data.Length <= maxWriteLength, $"A write of {data.Length} bytes exceeds the transport's {maxWriteLength}.");
        Writes.Add(data.ToArray());
    }

    public int Read(Span<byte> buffer) => 0;

    public void Dispose()
    {
    }
}

/// <summary>
/// Straightforward reference implementations, written from the specification rather than taken from the codec, so
/// the vectors are checked against something independent of the code that generated them.
/// </summary>
public static class Reference
{
    /// <summary>Bitwise CRC-32C: reflected polynomial 0x82F63B78, init and final XOR 0xFFFFFFFF.</summary>
    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78 : crc >> 1;
        }
        return crc ^ 0xFFFFFFFF;
    }

    /// <summary>
    /// Byte-at-a-time COBS encoder as in Cheshire and Baker's paper, minimal form: when the data ends right after a
    /// full 254-byte block, no empty block follows (an extra 01 would decode to the same bytes).
    /// </summary>
    public static byte[] CobsEncode(ReadOnlySpan<byte> data)
    {
        var output = new List<byte> { 0 };
        int codeAt = 0;
        byte code = 1;
        bool justSplit = false;
        foreach (byte b in data)
        {
            justSplit = false;
            if (b != 0)
            {
                output.Add(b);
                if (++code != 0xFF) continue;
                justSplit = true;
            }
            output[codeAt] = code;
            codeAt = output.Count;
            output.Add(0);
            code = 1;
        }
        if (justSplit) output.RemoveAt(codeAt);
        else output[codeAt] = code;
        return output.ToArray();
    }

    /// <summary>Byte-at-a-time COBS decoder; null when invalid.</summary>
    public static byte[]? CobsDecode(ReadOnlySpan<byte> encoded)
    {
        var output = new List<byte>();
        int i = 0;
        while (i < encoded.Length)
        {
            int code = encoded[i++];
            if (code == 0) return null;
            for (int k = 1; k < code; k++)
            {
                if (i >= encoded.Length || encoded[i] == 0) return null;
                output.Add(encoded[i++]);
            }
            if (code < 0xFF && i < encoded.Length) output.Add(0);
        }
        return output.ToArray();
    }
}

public static class CounterNames
{
    /// <summary>The counter of one rejection reason (a <see cref="FrameError"/> name).</summary>
    public static long Of(FrameDecoderCounters counters, string reason) => Enum.Parse<FrameError>(reason) switch
    {
        FrameError.TooShort => counters.TooShort,
        FrameError.TooLong => counters.TooLong,
        FrameError.BadEncoding => counters.BadEncoding,
        FrameError.CrcMismatch => counters.CrcMismatch,
        FrameError.UnsupportedVersion => counters.UnsupportedVersion,
        FrameError.UnknownDeviceClass => counters.UnknownDeviceClass,
        FrameError.InvalidFlags => counters.InvalidFlags,
        FrameError.LengthMismatch => counters.LengthMismatch,
        var other => throw new ArgumentException($"No counter for {other}."),
    };
}
