using System.CommandLine;
using Qkd.Node.Lab;

namespace Qkd.Cli.Commands;

/// <summary>The options every tag-measuring lab command shares: the source (emulated bench or a recording) and the outputs.</summary>
internal sealed class LabCommandSupport
{
    public readonly Option<bool> Emulator = new("--emulator") { Description = "Measure the emulated bench." };
    public readonly Option<FileInfo?> Replay = new("--replay") { Description = "Measure a recorded tag file instead (qkd record, or a PicoQuant PTU)." };
    public readonly Option<long> Pulses = new("--pulses") { Description = "Pulses the emulated bench emits.", DefaultValueFactory = _ => 4_000_000 };
    public readonly Option<double> Distance = new("--distance-km") { Description = "Fibre length of the emulated bench, km.", DefaultValueFactory = _ => 10 };
    public readonly Option<bool> Json = new("--json") { Description = "Print the JSON report." };
    public readonly Option<DirectoryInfo> Output = new("--out") { Description = "Where reports and plots go.", DefaultValueFactory = _ => new DirectoryInfo("lab") };

    public void AddTo(Command command)
    {
        command.Options.Add(Emulator);
        command.Options.Add(Replay);
        command.Options.Add(Pulses);
        command.Options.Add(Distance);
        command.Options.Add(Json);
        command.Options.Add(Output);
    }

    /// <summary>The capture the options ask for, or an error text.</summary>
    public (LabCapture? Capture, string? Error) Capture(ParseResult parse, CancellationToken cancellationToken)
    {
        bool emulator = parse.GetValue(Emulator);
        var replay = parse.GetValue(Replay);
        if (emulator == (replay is not null)) return (null, "give exactly one source: --emulator or --replay FILE");
        if (replay is { Exists: false }) return (null, $"{replay.FullName} does not exist");
        var options = new LabCaptureOptions
        {
            Profile = EmulatedBench.Profile(parse.GetValue(Distance)),
            Tagger = EmulatedBench.TaggerOptions,
            Pulses = parse.GetValue(Pulses),
            ReplayFile = replay?.FullName,
        };
        try
        {
            return (LabTagCapture.Capture(options, cancellationToken), null);
        }
        catch (Exception e) when (e is ArgumentException or IOException or FormatException or Hardware.DeviceException)
        {
            return (null, e.Message);
        }
    }
}
