using Qkd.Protocol;
namespace Qkd.Hardware.Devices;

/// <summary>An unsolicited frame from a device (flag Event), with its payload copied out of the receive buffer.</summary>
public sealed record DeviceEvent(MessageType Type, uint Sequence, byte[] Payload, DateTimeOffset ReceivedAt);
