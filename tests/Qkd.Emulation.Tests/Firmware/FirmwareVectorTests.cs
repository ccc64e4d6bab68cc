using System.Globalization;
using Qkd.Emulation.Firmware;
using Qkd.Protocol;
using Qkd.Protocol.Messages;

namespace Qkd.Emulation.Tests.Firmware;

/// <summary>
/// The emulated firmware driven with firmware-protocols/vectors/: every request vector gets exactly one response of its
/// class, type and sequence, a nack where the vector's response is a nack (with its code, in the state the vector's
/// description names), and every invalid frame is counted once and never answered. Skipped when the folder is absent.
/// </summary>
public sealed class FirmwareVectorTests
{
    private static string? VectorsDirectory()
    {
        for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "firmware-protocols", "vectors");
            if (File.Exists(Path.Combine(candidate, "frames-valid.txt"))) return candidate;
        }
        string fromSource = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(SourcePath())!, "..", "..", "..", "firmware-protocols", "vectors"));
        return File.Exists(Path.Combine(fromSource, "frames-valid.txt")) ? fromSource : null;
    }

    private static string SourcePath([System.Runtime.CompilerServices.CallerFilePath] string path = "") => path;

    private static IEnumerable<string[]> Lines(string file) =>
        File.ReadLines(file).Where(l => l.Trim().Length > 0 && !l.TrimStart().StartsWith('#')).Select(l => l.Split('|').Select(c => c.Trim()).ToArray());

    /// <summary>Hex with the README's shorthands: "XX*N" repeats a byte, "empty" is nothing, spaces mean nothing.</summary>
    private static byte[] Hex(string column)
    {
        var bytes = new List<byte>();
        foreach (string token in column.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (token == "empty") continue;
            int star = token.IndexOf('*');
            if (star > 0)
            {
                byte value = byte.Parse(token[..star], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                bytes.AddRange(Enumerable.Repeat(value, int.Parse(token[(star + 1)..], CultureInfo.InvariantCulture)));
                continue;
            }
            bytes.AddRange(Convert.FromHexString(token));
        }
        return bytes.ToArray();
    }

    [Fact]
    public void Every_request_vector_gets_its_one_response()
    {
        string? directory = VectorsDirectory();
        Assert.SkipWhen(directory is null, "firmware-protocols/vectors/ is not there");
        var valid = Lines(Path.Combine(directory!, "frames-valid.txt")).ToDictionary(c => c[0]);
        int checkedRequests = 0, checkedNacks = 0;
        foreach ((string name, string[] columns) in valid.Where(v => v.Key.EndsWith("-request", StringComparison.Ordinal)))
        {
            byte[] raw = Hex(columns[2]);
            Assert.Equal(FrameError.None, FrameCodec.TryDecode(raw, out FrameHeader request, out _));
            if (!request.IsRequest) continue;
            string stem = name[..^"-request".Length];
            string[]? answer = valid.GetValueOrDefault(stem + "-response") ?? valid.GetValueOrDefault(stem + "-nack");
            ErrorCode? expectedCode = null;
            if (answer is not null)
            {
                Assert.Equal(FrameError.None, FrameCodec.TryDecode(Hex(answer[2]), out FrameHeader expected, out ReadOnlySpan<byte> expectedPayload));
                if (expected.IsNack) expectedCode = NackPayload.Read(expectedPayload).Code;
            }

            // Class 0 goes to a detector (discovery); a WrongDeviceClass vector to a device of another class (the detector,
            // as the vectors describe, unless the frame is addressed to the detector).
            DeviceClass deviceClass = request.DeviceClass == DeviceClass.Any ? DeviceClass.SinglePhotonDetector : request.DeviceClass;
            if (expectedCode == ErrorCode.WrongDeviceClass)
                deviceClass = request.DeviceClass == DeviceClass.SinglePhotonDetector ? DeviceClass.TimeTagger : DeviceClass.SinglePhotonDetector;
            var gated = new GatedTagSource();
            using FirmwareHost device = deviceClass == DeviceClass.TimeTagger
                ? new EmulatedTimeTaggerFirmware(() => gated, clock: new ManualDeviceClock())
                : FirmwareProtocolTests.Create(deviceClass);
            (FirmwareTestHost host, var deviceEnd) = FirmwareTestHost.Connect(name);
            using (host)
            {
                device.Plug(deviceEnd);
                // The state the vector's response assumes, where the emulation has it.
                if (expectedCode == ErrorCode.InterlockOpen) device.OpenInterlock();
                if (expectedCode == ErrorCode.InvalidState && deviceClass == DeviceClass.TimeTagger)
                    host.Request(DeviceClass.TimeTagger, MessageType.TaggerStartStream);
                if (expectedCode == ErrorCode.InvalidState && deviceClass == DeviceClass.LaserModulator)
                    host.Request(DeviceClass.LaserModulator, MessageType.ModulatorStartEmission, new byte[8]);
                if (expectedCode == ErrorCode.InvalidState && deviceClass == DeviceClass.RandomNumberGenerator)
                    host.Request(DeviceClass.RandomNumberGenerator, MessageType.RngStartStream);

                host.SendRaw(Hex(columns[3]));
                ReceivedFrame response = host.AwaitResponse(request.Sequence) ?? throw new TimeoutException($"{name}: no response");
                Assert.Equal(request.DeviceClass, response.Header.DeviceClass);
                Assert.Equal(request.Type, response.Header.Type);
                checkedRequests++;
                // HardwareFault and Busy need failures the emulation does not model; their headers are checked above.
                if (expectedCode is ErrorCode.HardwareFault or ErrorCode.Busy) continue;
                if (expectedCode is { } code)
                {
                    Assert.True(response.Header.IsNack, $"{name}: expected nack {code}, got a response");
                    Assert.Equal(code, response.Nack.Code);
                    checkedNacks++;
                }
                else
                {
                    Assert.False(response.Header.IsNack, $"{name}: unexpected nack {(response.Header.IsNack ? response.Nack.Text : "")}");
                }
            }
        }
        Assert.True(checkedRequests >= 40, $"only {checkedRequests} request vectors");
        Assert.True(checkedNacks >= 5, $"only {checkedNacks} nack vectors");
    }

    [Fact]
    public void Every_invalid_frame_vector_is_counted_once_and_never_answered()
    {
        string? directory = VectorsDirectory();
        Assert.SkipWhen(directory is null, "firmware-protocols/vectors/ is not there");
        using var device = new EmulatedSinglePhotonDetectorFirmware(clock: new ManualDeviceClock());
        (FirmwareTestHost host, var deviceEnd) = FirmwareTestHost.Connect("detector");
        using (host)
        {
            device.Plug(deviceEnd);
            int lines = 0;
            foreach (string[] columns in Lines(Path.Combine(directory!, "frames-invalid.txt")))
            {
                long before = device.FramesRejected;
                byte[] bytes = Hex(columns[3]);
                host.SendRaw(bytes);
                if (bytes.Length == 0 || bytes[^1] != 0) host.SendRaw([0]); // end the frame so the next one starts clean
                ReceivedFrame ping = host.Request(DeviceClass.Any, MessageType.Ping, [7]); // in step: the next request is answered
                Assert.Equal([7], ping.Payload);
                Assert.True(device.FramesRejected - before == 1, $"{columns[0]}: {device.FramesRejected - before} frames rejected, 1 expected");
                lines++;
            }
            Assert.DoesNotContain(host.SetAside, f => f.Header.IsResponse);
            Assert.True(lines >= 10);
        }
    }
}
