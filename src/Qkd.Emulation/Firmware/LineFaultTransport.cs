using Qkd.Core.Random;
using Qkd.Protocol;
using Qkd.Protocol.Transport;

namespace Qkd.Emulation.Firmware;

/// <summary>
/// The device end of the line with injectable errors on what the device sends: a number of frames each corrupted in
/// exactly one byte that framing cannot notice (so the receiver counts exactly that many CRC mismatches), or a seeded
/// random bit-error rate (any damage: the receiver must resynchronise and count whatever it rejects). Without armed
/// faults a write goes straight through; with faults the batch is copied once into a reused scratch buffer.
/// </summary>
internal sealed class LineFaultTransport(IFrameTransport inner) : IFrameTransport
{
    private readonly object _gate = new();
    private byte[] _scratch = [];
    private int _framesToCorrupt;
    private double _bitErrorRate;
    private Xoshiro256StarStar? _random;

    public IFrameTransport Inner => inner;

    public string Description => inner.Description;

    public FramingKind Framing => inner.Framing;

    public int MaxWriteLength => inner.MaxWriteLength;

    /// <summary>Frames corrupted so far.</summary>
    public long FramesCorrupted { get; private set; }

    /// <summary>Bits flipped by the bit-error rate so far.</summary>
    public long BitsFlipped { get; private set; }

    public void CorruptNextFrames(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        lock (_gate) _framesToCorrupt += count;
    }

    public void SetBitErrorRate(double bitErrorRate, ulong seed)
    {
        if (!(bitErrorRate >= 0 && bitErrorRate < 1))
            throw new ArgumentOutOfRangeException(nameof(bitErrorRate), bitErrorRate, "The bit-error rate must lie in [0, 1).");
        lock (_gate)
        {
            _bitErrorRate = bitErrorRate;
            _random = bitErrorRate > 0 ? Xoshiro256StarStar.ForStream(seed, "firmware/line-errors") : null;
        }
    }

    public void Write(ReadOnlySpan<byte> data)
    {
        lock (_gate)
        {
            if (_framesToCorrupt == 0 && _random is null)
            {
                inner.Write(data);
                return;
            }
            if (_scratch.Length < data.Length) _scratch = new byte[Math.Max(data.Length, 2 * _scratch.Length)];
            Span<byte> copy = _scratch.AsSpan(0, data.Length);
            data.CopyTo(copy);
            if (_framesToCorrupt > 0) CorruptFrames(copy);
            if (_random is not null) FlipRandomBits(copy);
            inner.Write(copy);
        }
    }

    public int Read(Span<byte> buffer) => inner.Read(buffer);

    public void Dispose() => inner.Dispose();

    /// <summary>One changed byte per frame, placed where framing stays intact so only the CRC can catch it.</summary>
    private void CorruptFrames(Span<byte> batch)
    {
        if (Framing == FramingKind.Packet)
        {
            int at = 0;
            while (_framesToCorrupt > 0 && at < batch.Length)
            {
                int length = FrameCodec.DeclaredFrameLength(batch[at..]);
                if (length < 0 || at + length > batch.Length) return;
                batch[at + length - 1] ^= 0x01; // last CRC byte: the header (and so the packing) stays valid
                _framesToCorrupt--;
                FramesCorrupted++;
                at += length;
            }
            return;
        }
        int start = 0;
        while (_framesToCorrupt > 0 && start < batch.Length)
        {
            int end = batch[start..].IndexOf(ProtocolConstants.Delimiter);
            end = end < 0 ? batch.Length : start + end;
            // Walk the COBS blocks to the first data byte (a code byte changed would break the encoding instead).
            for (int i = start; i < end; i += batch[i])
            {
                if (batch[i] < 2) continue;
                byte b = batch[i + 1];
                batch[i + 1] = (byte)(b == 1 ? 3 : b ^ 1); // stays non-zero: no new delimiter
                _framesToCorrupt--;
                FramesCorrupted++;
                break;
            }
            start = end + 1;
        }
    }

    /// <summary>Independent bit errors at the configured rate: geometric gaps between flipped bits.</summary>
    private void FlipRandomBits(Span<byte> batch)
    {
        double logKeep = Math.Log(1 - _bitErrorRate);
        long bits = (long)batch.Length * 8;
        long position = -1;
        while (true)
        {
            double u = 1 - _random!.NextDouble(); // (0, 1]
            position += 1 + (long)Math.Floor(Math.Log(u) / logKeep);
            if (position >= bits || position < 0) return;
            batch[(int)(position >> 3)] ^= (byte)(1 << (int)(position & 7));
            BitsFlipped++;
        }
    }
}
