using System.CommandLine;
using Qkd.Emulation;
using Qkd.Node.Devices;
using Qkd.Node.Link;

namespace Qkd.Cli.Commands;

/// <summary>
/// `qkd emulate --bench-out bench.json`: serves the emulated link's three devices on serial ports (pseudo-terminals) until
/// Ctrl-C or SIGTERM, and writes a bench file naming them. Every `--bench` command (monitor, calibrate, histogram) then
/// drives them exactly as it drives hardware: System.IO.Ports, the wire protocol, the drivers.
/// `qkd emulate --link-bench DIR`: the same devices split between two nodes (alice-bench.json: the modulator;
/// bob-bench.json: detector and tagger), with the link settings and Bob's receiver settings the bench suits, for
/// `qkd node init --bench DIR`.
/// </summary>
public static class EmulateCommand
{
    public static Command Create()
    {
        var benchOut = new Option<FileInfo>("--bench-out") { Description = "The bench file to write (for the lab commands' --bench)." };
        var linkBench = new Option<DirectoryInfo>("--link-bench")
        {
            Description = "Serve a two-node link bench instead: write alice-bench.json, bob-bench.json, link-settings.json and receiver.json here (for `qkd node init --bench`).",
        };
        var pulseRate = new Option<double>("--pulse-rate-hz")
        {
            Description = "Pulse rate the link bench suits (a serial line carries half a byte of symbols per pulse).",
            DefaultValueFactory = _ => EmulatedLinkBench.DefaultPulseRateHz,
        };
        var distance = new Option<double>("--distance-km") { Description = "Fibre length of the emulated link, km (default 10; 2 with --link-bench).", DefaultValueFactory = _ => 10 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the emulated physics.", DefaultValueFactory = _ => 1UL };
        var receiver = new Option<string>("--receiver")
        {
            Description = "Bob's receiver on a link bench: passive (four detectors, a beam splitter picks the basis) or active (two detectors and a " +
                          "basis modulator fed with Bob's own choices, its basis marker on tagger input 7).",
            DefaultValueFactory = _ => "passive",
        };
        receiver.AcceptOnlyFromAmong("passive", "active");
        var hidden = new Option<bool>("--hidden-truth")
        {
            Description = "Put the light off the detectors' default gate and the bases off their default phases, as on an uncalibrated bench (find them with calibrate gate/alignment).",
        };
        var command = new Command("emulate", "Serve the emulated devices on serial ports (pseudo-terminals) until Ctrl-C, as a bench for --bench.")
        {
            benchOut, linkBench, distance, pulseRate, seed, hidden, receiver,
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
                // A link bench defaults to a short fibre (EmulatedLinkBench.DefaultDistanceKm); a lab bench to 10 km.
                double km = parse.GetResult(distance) is { Implicit: false } || parse.GetValue(linkBench) is null
                    ? parse.GetValue(distance) : EmulatedLinkBench.DefaultDistanceKm;
                profile = EmulatedBench.Profile(km);
                profile.Validate();
            }
            catch (LinkProfileException e)
            {
                error.WriteLine($"error: {e.Message}");
                return 1;
            }
            if ((parse.GetValue(benchOut) is null) == (parse.GetValue(linkBench) is null))
            {
                error.WriteLine("error: give exactly one of --bench-out FILE (a lab bench) and --link-bench DIR (a two-node link bench).");
                return 1;
            }
            bool active = parse.GetValue(receiver) == "active";
            if (active && parse.GetValue(linkBench) is null)
            {
                error.WriteLine("error: --receiver active applies to a link bench (--link-bench DIR); the lab bench has a passive receiver.");
                return 1;
            }
            if (parse.GetValue(linkBench) is { } folder)
                return await ServeLinkBenchAsync(folder.FullName, profile, parse.GetValue(pulseRate), parse.GetValue(seed), active, output, error, cancellationToken);
            using var bench = new EmulatedSerialBench(profile, EmulatedBench.TaggerOptions, parse.GetValue(seed),
                parse.GetValue(hidden) ? EmulatedBench.Truth : null);
            string path = parse.GetValue(benchOut)!.FullName;
            await File.WriteAllTextAsync(path, bench.Bench.ToJson(), CancellationToken.None);
            output.WriteLine($"Emulated devices on {bench.Bench.Modulator!.SerialPort} (modulator), {bench.Bench.Detector!.SerialPort} (detector), " +
                             $"{bench.Bench.Tagger!.SerialPort} (tagger); bench file {path}. Ctrl-C stops.");
            await UntilStopped(cancellationToken);
            output.WriteLine("Emulated devices stopped.");
            return 0;
        });
        return command;
    }

    private static async Task<int> ServeLinkBenchAsync(string folder, LinkProfile profile, double pulseRateHz, ulong seed, bool active, TextWriter output,
        TextWriter error, CancellationToken cancellationToken)
    {
        LinkSettings settings;
        try
        {
            settings = EmulatedLinkBench.SettingsFor(pulseRateHz);
            settings.Validate();
        }
        catch (LinkSettingsException e)
        {
            error.WriteLine($"error: --pulse-rate-hz: {e.Message}");
            return 1;
        }
        var taggerOptions = EmulatedBench.TaggerOptions;
        if (active) (profile, taggerOptions) = EmulatedLinkBench.WithActiveReceiver(profile, settings, taggerOptions);
        using var bench = new EmulatedLinkBench(profile, settings, taggerOptions, seed);
        try
        {
            bench.WriteTo(folder);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"error: {folder}: {e.Message}");
            return 1;
        }
        output.WriteLine($"Link bench in {folder}: Alice's modulator on {bench.AliceBench.Modulator!.SerialPort}; Bob's detector on " +
                         $"{bench.BobBench.Detector!.SerialPort}, tagger on {bench.BobBench.Tagger!.SerialPort}; {settings.PulseRateHz:0.###e0} pulses/s, " +
                         $"{profile.FibreLengthKm} km, {(active ? "active receiver (basis marker on tagger input " + EmulatedLinkBench.ActiveBasisMarkerChannel + ")" : "passive receiver")}. Next: qkd node init --dir DEPLOYMENT --bench {folder}. Ctrl-C or SIGTERM stops.");
        await UntilStopped(cancellationToken);
        output.WriteLine("Link bench stopped.");
        return 0;
    }

    private static async Task UntilStopped(CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(Timeout.Infinite, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }
}
