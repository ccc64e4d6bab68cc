using System.Buffers.Binary;

namespace Qkd.Pqc.Vehicle;

/// <summary>
/// Length-prefixed frames on a stream: u32 big-endian body length, then the body. Bodies are at most
/// <see cref="MaxFrameBytes"/>: a peer announcing more is refused before anything is allocated.
/// </summary>
internal static class FrameIo
{
    public const int MaxFrameBytes = 1 << 20;

    public static async ValueTask WriteAsync(Stream stream, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        byte[] header = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(header, (uint)body.Length);
        await stream.WriteAsync(header, cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(body, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The next frame's body, or null when the peer closed the stream between frames.</summary>
    public static async ValueTask<byte[]?> ReadAsync(Stream stream, CancellationToken cancellationToken)
    {
        byte[] header = new byte[4];
        int got = await stream.ReadAtLeastAsync(header, 4, throwOnEndOfStream: false, cancellationToken).ConfigureAwait(false);
        if (got == 0) return null;
        if (got < 4) throw new VehicleProtocolException("the peer closed the connection inside a frame header");
        uint length = BinaryPrimitives.ReadUInt32BigEndian(header);
        if (length > MaxFrameBytes) throw new VehicleProtocolException($"a frame of {length} bytes announced, at most {MaxFrameBytes} allowed");
        byte[] body = new byte[length];
        await stream.ReadExactlyAsync(body, cancellationToken).ConfigureAwait(false);
        return body;
    }
}
