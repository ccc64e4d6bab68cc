using Qkd.Protocol.Messages;

namespace Qkd.Hardware.Devices;

/// <summary>
/// One thing <see cref="DeviceDiscovery"/> found: where (bus and path), and either who it said it is or why it could
/// not be asked (busy, permission, no answer).
/// </summary>
/// <param name="Bus">"usb", "serial" or "gpio".</param>
/// <param name="Path">Bus path: "/dev/bus/usb/001/004 (1-4)", "/dev/ttyACM0", "/dev/gpiochip0".</param>
/// <param name="Identity">The Identify answer, for protocol devices that answered.</param>
/// <param name="Detail">What else is known: USB strings, GPIO chip label and line count.</param>
/// <param name="Problem">Why it could not be identified, or null.</param>
public sealed record DiscoveredDevice(string Bus, string Path, DeviceIdentity? Identity, string? Detail, string? Problem)
{
    public override string ToString() =>
        $"{Bus,-6} {Path,-34} " + (Identity is not null ? Identity.ToString() : Detail ?? "") + (Problem is null ? "" : $" [{Problem}]");
}
