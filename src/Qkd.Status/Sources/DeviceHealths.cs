using Qkd.Hardware.Devices;
using Qkd.Protocol;

namespace Qkd.Status;

/// <summary>A node's devices as the status page lists them.</summary>
public static class DeviceHealths
{
    /// <summary>A driver's connection state: healthy while connected.</summary>
    public static DeviceHealth Of(IDevice device)
    {
        ArgumentNullException.ThrowIfNull(device);
        string detail = device.Identity is { } id ? $"serial {id.SerialNumber}, firmware {id.FirmwareVersion}" : "not identified yet";
        if (device.Reconnects > 0) detail += $", reconnected {device.Reconnects} times";
        return new DeviceHealth(device.Name, KindName(device.DeviceClass), device.State.ToString().ToLowerInvariant(), device.State == ConnectionState.Connected, detail);
    }

    /// <summary>The QRNG's health tests (an entropy source that fails them holds key generation).</summary>
    public static DeviceHealth Qrng(string name, bool healthy, string? alarm) =>
        new(name, "quantum random number generator", healthy ? "healthy" : "failed health test", healthy, alarm);

    /// <summary>The emulated bench of a node without devices: nothing to watch, said so.</summary>
    public static DeviceHealth Emulated(string what) => new(what, "emulator", "emulated", true, "the physics model stands in for the devices");

    private static string KindName(DeviceClass deviceClass) => deviceClass switch
    {
        DeviceClass.TimeTagger => "time tagger",
        DeviceClass.SinglePhotonDetector => "single-photon detector",
        DeviceClass.LaserModulator => "laser and modulator",
        DeviceClass.RandomNumberGenerator => "quantum random number generator",
        _ => deviceClass.ToString(),
    };
}
