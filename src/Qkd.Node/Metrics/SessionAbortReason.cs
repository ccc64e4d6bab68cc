using Qkd.Core.Channel;
using Qkd.Protocol;

namespace Qkd.Node.Metrics;

/// <summary>
/// Why a session broke, as the "reason" tag of qkd.node.sessions.aborted: a fixed, small set (one time series each),
/// never an exception message.
/// </summary>
public static class SessionAbortReason
{
    public const string ChannelClosed = "channel_closed";
    public const string Io = "io";
    public const string InvalidData = "invalid_data";
    public const string Device = "device";
    public const string Timeout = "timeout";
    /// <summary>The QRNG failed its health tests or went away (EntropySourceUnavailableException).</summary>
    public const string Entropy = "entropy";
    public const string Other = "other";

    /// <summary>A key-generation gate closed mid-session (interlock open, bright light on the monitor photodiode).</summary>
    public const string KeyGenerationBlocked = "key_generation_blocked";

    public static IReadOnlyList<string> All { get; } = [ChannelClosed, Io, InvalidData, Device, Timeout, Entropy, KeyGenerationBlocked, Other];

    public static string Of(Exception exception) => exception switch
    {
        ClassicalChannelClosedException => ChannelClosed,
        IOException => Io,
        InvalidDataException => InvalidData,
        Protocol.DeviceException => Device,
        TimeoutException => Timeout,
        Core.Random.EntropySourceUnavailableException => Entropy,
        _ => Other,
    };
}
