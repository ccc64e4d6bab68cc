using Qkd.Hardware.Devices;

namespace Qkd.Node.Devices;

/// <summary>One device in a run report: who it is, how it was reached, and what its connection counted.</summary>
public sealed record DeviceReport(string Class, string Name, string? SerialNumber, string? FirmwareVersion, string State,
    IReadOnlyDictionary<string, long> Counters)
{
    public static DeviceReport From(IDevice device) => new(device.DeviceClass.ToString(), device.Name, device.Identity?.SerialNumber,
        device.Identity?.FirmwareVersion.ToString(), device.State.ToString(), device.Counters);
}
