using System.CommandLine;
using Qkd.Emulation;
using Qkd.Node.Devices;
using Qkd.Node.Link;

namespace Qkd.Cli.Commands;

/// <summary>
/// `qkd emulate --bench-out bench.json`: serves the emulated link's three devices on serial ports (pseudo-terminals) until
/// Ctrl-C, and writes a bench file naming them. Every `--bench` command (monitor, calibrate, histogram) then drives them
/// exactly as it drives hardware: System.IO.Ports, the wire protocol, the drivers.
/// </summary>
public static class EmulateCommand
{
    public static Command Create()
    {
        var benchOut = new Option<FileInfo>("--bench-out") { Description = "The bench file to write (for --bench).", Required = true };
        var distance = new Option<double>("--distance-km") { Description = "Fibre length of the emulated link, km.", DefaultValueFactory = _ => 10 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the emulated physics.", DefaultValueFactory = _ => 1UL };
        var hidden = new Option<bool>("--hidden-truth")
        {
            Description = "Put the light off the detectors' default gate and the bases off their default phases, as on an uncalibrated bench (find them with calibrate gate/alignment).",
        };
        var command = new Command("emulate", "Serve the emulated devices on serial ports (pseudo-terminals) until Ctrl-C, as a bench for --bench.")
        {
            benchOut, distance, seed, hidden,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            TextWriter output = parse.InvocationConfiguration.Output, error = parse.InvocationConfiguration.Error;
            if (!OperatingSystem.IsLinux())
            {
                error.WriteLine("error: the emulated bench uses Linux pseudo-terminals; it runs on Linux only.");
                return 1;
            }
            LinkProfile profile;
            try
            {
                profile = EmulatedBench.Profile(parse.GetValue(distance));
                profile.Validate();
            }
            catch (LinkProfileException e)
            {
                error.WriteLine($"error: {e.Message}");
                return 1;
            }
            using var bench = new EmulatedSerialBench(profile, EmulatedBench.TaggerOptions, parse.GetValue(seed),
                parse.GetValue(hidden) ? EmulatedBench.Truth : null);
            string path = parse.GetValue(benchOut)!.FullName;
            await File.WriteAllTextAsync(path, bench.Bench.ToJson(), CancellationToken.None);
            output.WriteLine($"Emulated devices on {bench.Bench.Modulator.SerialPort} (modulator), {bench.Bench.Detector.SerialPort} (detector), " +
                             $"{bench.Bench.Tagger.SerialPort} (tagger); bench file {path}. Ctrl-C stops.");
            try
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
            catch (OperationCanceledException)
            {
            }
            output.WriteLine("Emulated devices stopped.");
            return 0;
        });
        return command;
    }
}
