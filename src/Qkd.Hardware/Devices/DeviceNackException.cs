using Qkd.Protocol.Messages;
using Qkd.Protocol;

namespace Qkd.Hardware.Devices;

/// <summary>The device refused a request (a nack); <see cref="Code"/> says why, the text names the field.</summary>
public sealed class DeviceNackException(string device, string operation, NackPayload nack)
    : DeviceException(device, operation, $"the device refused it ({nack.Code}): {nack.Text}")
{
    public ErrorCode Code { get; } = nack.Code;

    public string DeviceText { get; } = nack.Text;
}
