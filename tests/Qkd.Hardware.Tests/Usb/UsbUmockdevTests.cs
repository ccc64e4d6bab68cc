using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Text;
using Qkd.Hardware.Transport.Usb;

namespace Qkd.Hardware.Tests.Usb;

/// <summary>
/// The libusb layer against a USB device at the kernel interface: umockdev-run fakes sysfs, udev and the usbfs node
/// /dev/bus/usb/001/002 of a time tagger (Recordings/timetagger.umockdev) and replays its bulk transfers
/// (Recordings/timetagger-identify.ioctl: the Identify request on bulk OUT 0x01, its reply on bulk IN 0x81, then
/// ENODEV as an unplug). Real libusb runs inside; the probe (tests/Qkd.UsbProbe) drives our classes and prints what
/// it saw.
/// </summary>
public class UsbUmockdevTests
{
    private const string Serial = "TT-0042";
    private static readonly string Recordings = Path.Combine(AppContext.BaseDirectory, "Usb", "Recordings");

    [Fact]
    public async Task Enumerates_opens_claims_writes_a_command_and_reads_its_reply_from_a_recorded_time_tagger()
    {
        var umockdevRun = FindOnPath("umockdev-run");
        if (umockdevRun is null)
            Assert.Skip("umockdev-run is not installed (apt install umockdev libusb-1.0-0); .ci/run installs it on CI");
        if (!NativeLibrary.TryLoad("libusb-1.0.so.0", out var libusb))
            Assert.Skip("libusb-1.0 is not installed (apt install libusb-1.0-0); .ci/run installs it on CI");
        NativeLibrary.Free(libusb);

        // Identify request and the time tagger's reply, built here by the header layout of the brief, independently of
        // the codec under test elsewhere; the recording must carry exactly these bytes.
        var command = Frame(type: 0x01, flags: 0, sequence: 1, payload: []);
        var reply = Frame(type: 0x01, flags: 0x01, sequence: 1, payload: IdentifyPayload());
        var script = await File.ReadAllTextAsync(Path.Combine(Recordings, "timetagger-identify.ioctl"), TestContext.Current.CancellationToken);
        Assert.Contains($" 3 1 0 0 {command.Length} {command.Length} 0 {Convert.ToHexString(command)}", script);
        Assert.Contains($" 3 129 0 0 65536 {reply.Length} 0 {Convert.ToHexString(reply)}", script);

        var output = await RunProbeAsync(umockdevRun, Convert.ToHexString(command));

        var lines = output.Split('\n', StringSplitOptions.TrimEntries);
        Assert.Contains("found: usb 1-2 1209:7d03 SN TT-0042", lines);
        Assert.Contains($"serial: {Serial}", lines);
        Assert.Contains("manufacturer: QKD Lab", lines);
        Assert.Contains("product: QKD Time Tagger", lines);
        Assert.Contains("location: 1-2 /dev/bus/usb/001/002", lines);
        Assert.Contains("class: TimeTagger", lines);
        Assert.Contains("max packet IN: 512", lines);
        Assert.Contains("claimed: 0", lines);
        Assert.Contains($"sync sent: {Convert.ToHexString(command)}", lines);
        Assert.Contains($"sync reply: {Convert.ToHexString(reply)}", lines);
        Assert.Contains("transport: usb 1-2 1209:7d03 SN TT-0042 Packet 65536", lines);
        Assert.Contains($"async reply: {Convert.ToHexString(reply)}", lines);
        Assert.Contains("disconnected: usb 1-2 1209:7d03 SN TT-0042: bulk IN from endpoint 0x81 failed: the device is disconnected", lines);
        Assert.Contains("done", lines);
    }

    [Fact]
    public void The_recorded_descriptors_are_those_of_our_time_tagger_firmware()
    {
        var recording = File.ReadAllLines(Path.Combine(Recordings, "timetagger.umockdev"));
        var descriptors = Convert.FromHexString(recording.First(l => l.StartsWith("H: descriptors=")).Split('=')[1]);

        var device = UsbDeviceDescriptor.Parse(descriptors);
        Assert.Equal(UsbDeviceIds.VendorId, device.VendorId);
        Assert.Equal(UsbDeviceIds.TimeTaggerProductId, device.ProductId);
        Assert.NotEqual(0, device.SerialNumberIndex);

        // Walk the configuration: interface 0 must be vendor-specific with bulk OUT 0x01 and bulk IN 0x81, 512 bytes.
        var endpoints = new Dictionary<byte, int>();
        int currentInterface = -1;
        for (var at = UsbDeviceDescriptor.Length; at < descriptors.Length; at += descriptors[at])
        {
            var type = descriptors[at + 1];
            if (type == 0x04)
            {
                currentInterface = descriptors[at + 2];
                if (currentInterface == UsbDeviceIds.Interface) Assert.Equal(0xFF, descriptors[at + 5]);
            }
            else if (type == 0x05 && currentInterface == UsbDeviceIds.Interface)
            {
                Assert.Equal(0x02, descriptors[at + 3] & 0x03); // bulk
                endpoints[descriptors[at + 2]] = BinaryPrimitives.ReadUInt16LittleEndian(descriptors.AsSpan(at + 4));
            }
        }

        Assert.Equal(UsbDeviceIds.MaxPacketSize, endpoints[UsbDeviceIds.BulkOutEndpoint]);
        Assert.Equal(UsbDeviceIds.MaxPacketSize, endpoints[UsbDeviceIds.BulkInEndpoint]);
        Assert.Contains($"A: serial={Serial}", recording);
    }

    private static async Task<string> RunProbeAsync(string umockdevRun, string commandHex)
    {
        var start = new ProcessStartInfo(umockdevRun)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Recordings,
        };
        foreach (var argument in new[]
                 {
                     "-d", Path.Combine(Recordings, "timetagger.umockdev"),
                     "-i", "/dev/bus/usb/001/002=" + Path.Combine(Recordings, "timetagger-identify.ioctl"),
                     "--", DotnetHost(), Path.Combine(AppContext.BaseDirectory, "Qkd.UsbProbe.dll"),
                     "1209", "7d03", Serial, commandHex,
                 })
        {
            start.ArgumentList.Add(argument);
        }

        // The runtime's debugger transport hangs under umockdev's preload library.
        start.Environment["DOTNET_EnableDiagnostics_Debugger"] = "0";

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"the probe under umockdev-run did not finish:\n{await stdout}\n{await stderr}");
        }

        var output = await stdout;
        Assert.True(process.ExitCode == 0, $"probe exit code {process.ExitCode}\nstdout:\n{output}\nstderr:\n{await stderr}");
        return output;
    }

    /// <summary>The dotnet host running this test (its root is three levels above the shared runtime directory).</summary>
    private static string DotnetHost()
    {
        var root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var host = Path.Combine(root, "dotnet");
        return File.Exists(host) ? host : "dotnet";
    }

    private static string? FindOnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Select(directory => Path.Combine(directory, program))
        .FirstOrDefault(File.Exists);

    private static byte[] Frame(byte type, byte flags, uint sequence, byte[] payload)
    {
        var frame = new byte[12 + payload.Length + 4];
        frame[0] = 1; // protocol version
        frame[1] = 3; // time tagger
        frame[2] = type;
        frame[3] = flags;
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(4), sequence);
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(8), (uint)payload.Length);
        payload.CopyTo(frame, 12);
        var crc = Crc32.HashToUInt32(Crc32ParameterSet.Crc32C, frame.AsSpan(0, 12 + payload.Length));
        BinaryPrimitives.WriteUInt32LittleEndian(frame.AsSpan(12 + payload.Length), crc);
        return frame;
    }

    /// <summary>Identify reply: class 3, protocol 1, 1209:7d03, firmware 1.2.3, 8 channels, serial, model.</summary>
    private static byte[] IdentifyPayload()
    {
        var payload = new List<byte> { 3, 1, 0x09, 0x12, 0x03, 0x7D, 1, 2, 3, 0, 8 };
        payload.Add((byte)Serial.Length);
        payload.AddRange(Encoding.ASCII.GetBytes(Serial));
        payload.Add(4);
        payload.AddRange("TT-8"u8.ToArray());
        return payload.ToArray();
    }
}
