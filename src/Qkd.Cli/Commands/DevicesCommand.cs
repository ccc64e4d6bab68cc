using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Serialization;
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
            output.WriteLine(JsonSerializer.Serialize(found.Select(d => new
            {
                bus = d.Bus,
                path = d.Path,
                deviceClass = d.Identity?.DeviceClass.ToString(),
                model = d.Identity?.Model,
                serialNumber = d.Identity?.SerialNumber,
                firmwareVersion = d.Identity?.FirmwareVersion.ToString(),
                protocolVersion = d.Identity?.ProtocolVersion,
                channels = d.Identity?.ChannelCount,
                detail = d.Detail,
                problem = d.Problem,
            }), new JsonSerializerOptions { WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull }));
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
