using System.CommandLine;
using Qkd.Lab;

namespace Qkd.Cli.Commands;

/// <summary>The options every tag-measuring lab command shares: the source (emulated bench or a recording) and the outputs.</summary>
internal sealed class LabCommandSupport
{
    public readonly Option<bool> Emulator = new("--emulator") { Description = "Measure the emulated bench." };
    public readonly Option<FileInfo?> Bench = new("--bench") { Description = "Measure the devices of this bench file (serial ports or USB serial numbers; see README)." };
    public readonly Option<FileInfo?> Replay = new("--replay") { Description = "Measure a recorded tag file instead (qkd record, or a PicoQuant PTU)." };
    public readonly Option<long> Pulses = new("--pulses") { Description = "Pulses the emulated bench emits.", DefaultValueFactory = _ => 4_000_000 };
    public readonly Option<double> Distance = new("--distance-km") { Description = "Fibre length of the emulated bench, km.", DefaultValueFactory = _ => 10 };
    public readonly Option<bool> Json = new("--json") { Description = "Print the JSON report." };
    public readonly Option<DirectoryInfo> Output = new("--out") { Description = "Where reports and plots go.", DefaultValueFactory = _ => new DirectoryInfo("lab") };
    public readonly Option<bool> AcceptDamaged = DamagedRecordings.CreateOption();

    public void AddTo(Command command)
    {
        command.Options.Add(Emulator);
        command.Options.Add(Bench);
        command.Options.Add(Replay);
        command.Options.Add(Pulses);
        command.Options.Add(Distance);
        command.Options.Add(Json);
        command.Options.Add(Output);
        command.Options.Add(AcceptDamaged);
    }

    /// <summary>The pulses the capture emitted when the command chose them (emulator, bench); null for a recording.</summary>
    public long? PulsesOf(ParseResult parse, LabCapture capture) => parse.GetValue(Replay) is null ? capture.Pulses ?? parse.GetValue(Pulses) : null;

    /// <summary>The capture the options ask for, or an error text.</summary>
    public (LabCapture? Capture, string? Error) Capture(ParseResult parse, CancellationToken cancellationToken)
    {
        bool emulator = parse.GetValue(Emulator);
        var replay = parse.GetValue(Replay);
        var benchFile = parse.GetValue(Bench);
        if ((emulator ? 1 : 0) + (replay is null ? 0 : 1) + (benchFile is null ? 0 : 1) != 1)
            return (null, "give exactly one source: --emulator, --bench FILE or --replay FILE");
        if (replay is { Exists: false }) return (null, $"{replay.FullName} does not exist");
        Node.Devices.DeviceBench? bench = null;
        try
        {
            if (benchFile is not null) bench = Node.Devices.DeviceBench.Load(benchFile.FullName);
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException)
        {
            return (null, e.Message);
        }
        var options = new LabCaptureOptions
        {
            Profile = EmulatedBench.Profile(parse.GetValue(Distance)),
            Tagger = EmulatedBench.TaggerOptions,
            Pulses = parse.GetValue(Pulses),
            ReplayFile = replay?.FullName,
            AcceptDamaged = parse.GetValue(AcceptDamaged),
            Bench = bench,
        };
        try
        {
            var capture = LabTagCapture.Capture(options, cancellationToken);
            DamagedRecordings.Warn(capture.Recording, parse.InvocationConfiguration.Error);
            return (capture, null);
        }
        catch (Exception e) when (e is ArgumentException or IOException or FormatException or Protocol.DeviceException or UnauthorizedAccessException)
        {
            return (null, e.Message);
        }
    }
}
