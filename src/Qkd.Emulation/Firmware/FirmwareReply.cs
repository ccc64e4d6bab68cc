using Qkd.Protocol;
using Qkd.Protocol.Messages;

namespace Qkd.Emulation.Firmware;

/// <summary>
/// What a firmware answers to one request: a payload (flags Response) or an error code and a text naming the field and
/// value (flags Response|Nack). Requests are rare next to stream frames, so a small allocation per answer is fine.
/// </summary>
public readonly record struct FirmwareReply(ErrorCode? Error, string? Text, byte[] Payload)
{
    public static FirmwareReply Empty { get; } = new(null, null, []);

    public bool IsNack => Error is not null;

    public static FirmwareReply Ok(byte[] payload) => new(null, null, payload);

    public static FirmwareReply Nack(ErrorCode code, string text) => new(code, text, new NackPayload(code, text).ToPayload());

    /// <summary>The MalformedPayload nack every handler gives for a wrong payload length.</summary>
    public static FirmwareReply WrongLength(DeviceClass deviceClass, MessageType type, int length, string expected) =>
        Nack(ErrorCode.MalformedPayload, $"{MessageNames.Of(deviceClass, type)}: payload of {length} bytes, {expected} expected");
}
