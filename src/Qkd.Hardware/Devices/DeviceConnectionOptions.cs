using Qkd.Protocol;
namespace Qkd.Hardware.Devices;

/// <summary>How a host talks to one device: reply timeout, retries, batching.</summary>
public sealed record DeviceConnectionOptions
{
    /// <summary>How long to wait for the reply to one request.</summary>
    public TimeSpan ReplyTimeout { get; init; } = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// How many times an idempotent request (Identify, Ping, GetStatus, GetParameter, SetParameter) is sent again after
    /// a timeout: a frame lost to a CRC error on the line costs one timeout, not a failed operation.
    /// </summary>
    public int Retries { get; init; } = 2;

    /// <summary>Receive buffer for one transport read (a USB transfer must fit).</summary>
    public int ReceiveBufferBytes { get; init; } = 1 << 17;

    public void Validate()
    {
        if (ReplyTimeout <= TimeSpan.Zero || ReplyTimeout > TimeSpan.FromMinutes(5))
            throw new ArgumentOutOfRangeException(nameof(ReplyTimeout), ReplyTimeout, "The reply timeout must be between 0 and 5 minutes.");
        if (Retries is < 0 or > 10)
            throw new ArgumentOutOfRangeException(nameof(Retries), Retries, "Retries must be 0..10.");
        if (ReceiveBufferBytes < ProtocolConstants.MaxFrameLength)
            throw new ArgumentOutOfRangeException(nameof(ReceiveBufferBytes), ReceiveBufferBytes, $"The receive buffer must hold the largest frame ({ProtocolConstants.MaxFrameLength} bytes).");
    }
}
