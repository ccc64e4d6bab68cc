using System.CommandLine;
using System.Text.Json;
using Qkd.Hardware.Devices;

namespace Qkd.Cli.Commands;

/// <summary>`qkd devices`: lists attached QKD devices (USB, serial ports probed with Identify) and GPIO chips.</summary>
public static class DevicesCommand
{
    public static Command Create()
    {
        var json = new Option<bool>("--json") { Description = "Print machine-readable JSON." };
        var noUsb = new Option<bool>("--no-usb") { Description = "Skip USB devices." };
        var noSerial = new Option<bool>("--no-serial") { Description = "Skip serial ports (probing sends one Identify frame to each)." };
        var noGpio = new Option<bool>("--no-gpio") { Description = "Skip GPIO chips." };
        var command = new Command("devices", "List attached devices with their firmware version and serial number.") { json, noUsb, noSerial, noGpio };
        command.SetAction(parse =>
        {
            TextWriter output = parse.InvocationConfiguration.Output;
            var found = new DeviceDiscovery().Discover(!parse.GetValue(noUsb), !parse.GetValue(noSerial), !parse.GetValue(noGpio));
            Print(found, parse.GetValue(json), output);
            return 0;
        });
        return command;
    }

    public static void Print(IReadOnlyList<DiscoveredDevice> found, bool json, TextWriter output)
    {
        if (json)
        {
            IReadOnlyList<DiscoveredDeviceListing> listing = found.Select(d => new DiscoveredDeviceListing(d.Bus, d.Path,
                d.Identity?.DeviceClass.ToString(), d.Identity?.Model, d.Identity?.SerialNumber, d.Identity?.FirmwareVersion.ToString(),
                d.Identity?.ProtocolVersion, d.Identity?.ChannelCount, d.Detail, d.Problem)).ToArray();
            output.WriteLine(JsonSerializer.Serialize(listing, CliJson.Default.IReadOnlyListDiscoveredDeviceListing));
            return;
        }
        if (found.Count == 0)
        {
            output.WriteLine("No devices found (no supported USB device, no serial port, no GPIO chip).");
            return;
        }
        foreach (var device in found) output.WriteLine(device);
        int identified = found.Count(d => d.Identity is not null);
        output.WriteLine($"{found.Count} found, {identified} QKD device{(identified == 1 ? "" : "s")} identified.");
    }
}
