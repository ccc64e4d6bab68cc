using Qkd.Distillation.ErrorCorrection;
using Qkd.Distillation.ParameterEstimation;
using Qkd.Hardware.Peripherals;
using Qkd.Node.Devices;
using Qkd.ClassicalChannel;
using Qkd.Hardware.RandomNumberGenerator;
using Qkd.Lab.Run;
using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Qkd.Emulation;
using Qkd.Emulation.Hosting;
using Qkd.Node.Link;

namespace Qkd.Cli.Commands;

/// <summary>`qkd run`: one whole link in this process. Exit codes: 0 key produced, 2 no key or aborted, 1 bad input or failure.</summary>
public static class RunCommand
{
    public static Command Create()
    {
        var emulator = new Option<bool>("--emulator") { Description = "Use the emulated photon source and devices (no hardware needed)." };
        var profile = new Option<FileInfo?>("--profile") { Description = "Link profile JSON (see src/Qkd.Emulation/README.md); default: built-in profile." };
        var distance = new Option<double?>("--distance-km") { Description = "Override the profile's fibre length, km." };
        var duration = new Option<double>("--duration-s") { Description = "Link time to run, seconds.", DefaultValueFactory = _ => 1.0 };
        var seed = new Option<ulong?>("--seed")
        {
            Description = "Seed every random choice, Alice's symbols, Bob's squashing and the distillers' randomness included: same seed, same run and same key, " +
                "which is then NOT secret (emulation and tests only). Without it those choices come from the OS CSPRNG and only the emulated physics is seeded.",
        };
        var eavesdropper = new Option<string?>("--eavesdropper") { Description = "Emulated attack, modelled in the physics: " + EavesdropperSpec.Syntax + "." };
        var report = new Option<FileInfo?>("--report") { Description = "Write the JSON report here." };
        var blockSize = new Option<long>("--block-size") { Description = "Sifted key bits per privacy-amplification block.", DefaultValueFactory = _ => 1L << 23 };
        var keysDir = new Option<DirectoryInfo>("--keys-dir") { Description = "Where Alice's and Bob's key files are written.", DefaultValueFactory = _ => new DirectoryInfo("keys") };
        var verbose = new Option<bool>("--verbose") { Description = "Log every block." };
        var quiet = new Option<bool>("--quiet") { Description = "No live progress line." };
        var transport = new Option<string>("--transport")
        {
            Description = "How the drivers reach the emulated devices: inproc (in-process streams) or pty (real pseudo-terminals through System.IO.Ports; a few MB/s, so use short runs).",
            DefaultValueFactory = _ => "inproc",
        };
        transport.AcceptOnlyFromAmong("inproc", "pty");
        var replay = new Option<FileInfo?>("--replay") { Description = "Replay a time-tag recording (from `qkd record`) as Bob's tagger; profile and seed come from the file." };
        var acceptDamaged = DamagedRecordings.CreateOption();
        var channelRoundTrip = new Option<double>("--channel-rtt-ms")
        {
            Description = "Round trip of the classical channel between the ends, ms (emulated network latency; default 0, in-process).",
            DefaultValueFactory = _ => 0,
        };
        var reconciliation = new Option<string?>("--reconciliation")
        {
            Description = "Error correction: cascade, ldpc or auto (LDPC when Cascade's round trips would outlast the block's light); default: the link settings'.",
        };
        reconciliation.AcceptOnlyFromAmong("cascade", "ldpc", "auto");
        var finiteKey = new Option<string?>("--finite-key")
        {
            Description = $"Finite-key analysis that sizes the keys: {FiniteKeyAnalyses.Names} (see src/Qkd.Distillation/README.md); default: the link settings' " +
                $"({FiniteKeyAnalyses.Name(FiniteKeyAnalyses.Default)}).",
        };
        finiteKey.AcceptOnlyFromAmong([.. FiniteKeyAnalyses.All.Select(FiniteKeyAnalyses.Name)]);

        var command = new Command("run", "Run a QKD link end to end and print a summary.")
        {
            emulator, profile, distance, duration, seed, eavesdropper, report, blockSize, keysDir, verbose, quiet, replay, acceptDamaged, transport,
            channelRoundTrip, reconciliation, finiteKey,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            TextWriter output = parse.InvocationConfiguration.Output, error = parse.InvocationConfiguration.Error;
            if (!parse.GetValue(emulator) && parse.GetValue(replay) is null)
            {
                error.WriteLine("error: only the emulated link or a replayed recording is available in this build; add --emulator or --replay FILE (hardware links need device configuration).");
                return 1;
            }
            EmulatedRunOptions options;
            try
            {
                if (parse.GetValue(replay) is FileInfo recording)
                    options = Recording.ReadRunOptions(recording.FullName, parse.GetValue(keysDir)!.FullName, parse.GetValue(blockSize), parse.GetValue(acceptDamaged));
                else
                    options = EmulatedOptions(parse);
                options = options with { ChannelRoundTrip = TimeSpan.FromMilliseconds(parse.GetValue(channelRoundTrip)) };
                if (parse.GetValue(reconciliation) is string method)
                    options = options with { Settings = options.Settings with { Reconciliation = Enum.Parse<ReconciliationMethod>(method, ignoreCase: true) } };
                if (parse.GetValue(finiteKey) is string analysis)
                    options = options with { Settings = options.Settings with { FiniteKey = analysis } };
                options.Validate();
            }
            catch (Exception e) when (e is LinkProfileException or ArgumentException or IOException or FormatException or System.Text.Json.JsonException)
            {
                error.WriteLine($"error: {e.Message}");
                return 1;
            }
            EmulatedRunOptions EmulatedOptions(ParseResult parse)
            {
                var profileFile = parse.GetValue(profile);
                // The block size is a link setting; a profile file may still carry the transmitter settings too.
                var blockSettings = LinkSettings.Default with { BlockSizeBits = parse.GetValue(blockSize) };
                var (linkProfile, settings) = profileFile is null
                    ? (LinkProfile.Default, blockSettings)
                    : LinkProfileFile.Load(profileFile.FullName, blockSettings);
                if (parse.GetValue(distance) is double km) linkProfile = linkProfile.WithDistance(km);
                if (parse.GetValue(eavesdropper) is string eve) linkProfile = linkProfile with { Eavesdropper = EavesdropperSpec.Parse(eve) };
                linkProfile.Validate();
                return new EmulatedRunOptions
                {
                    Profile = linkProfile,
                    Settings = settings,
                    ProfileSource = profileFile?.FullName ?? "built-in default",
                    DurationSeconds = parse.GetValue(duration),
                    Seed = parse.GetValue(seed),
                    KeysDirectory = parse.GetValue(keysDir)!.FullName,
                    DeviceTransport = parse.GetValue(transport) == "pty" ? EmulatedDeviceTransport.PseudoTerminal : EmulatedDeviceTransport.InProcess,
                };
            }

            using var loggerFactory = LoggerFactory.Create(b => b
                .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
                .SetMinimumLevel(parse.GetValue(verbose) ? LogLevel.Information : LogLevel.Warning));
            var runner = new EmulatedLinkRunner(options, loggerFactory.CreateLogger("qkd.link"));
            var live = parse.GetValue(quiet) || Console.IsErrorRedirected ? null : new ProgressLine(error);

            error.WriteLine($"{(options.ReplayFile is null ? "Emulated link" : "Replayed recording")}: {options.Profile.FibreLengthKm} km, {options.Settings.PulseRateHz / 1e9:G3} GHz, " +
                $"{options.DurationSeconds} s of link time, " +
                (options.Seed is ulong s ? $"seed {s}" : $"choices from the OS CSPRNG, emulator seed {options.EmulatorSeed}") + $", eavesdropper {options.Profile.Eavesdropper}");
            if (options.Seed is not null)
                error.WriteLine($"warning: {ChoiceSources.SeededWarning}");
            DamagedRecordings.Warn(options.ReplayIntegrity, error);
            LinkReport result;
            try
            {
                result = await runner.RunAsync(live, cancellationToken);
            }
            finally
            {
                live?.Finish();
            }
            RunSummary.Print(result, output);
            if (parse.GetValue(report) is FileInfo reportFile)
            {
                File.WriteAllText(reportFile.FullName, result.ToJson());
                output.WriteLine($"Report written to {reportFile.FullName}");
            }
            return result.SecretBits > 0 && result.IdenticalKeys ? 0 : 2;
        });
        return command;
    }
}

/// <summary>The live status line on stderr, refreshed at most five times a second.</summary>
internal sealed class ProgressLine(TextWriter writer) : IProgress<LinkProgress>
{
    private long _lastTicks;
    private int _width;

    public void Report(LinkProgress p)
    {
        long now = Environment.TickCount64;
        if (now - _lastTicks < 200) return;
        _lastTicks = now;
        string qber = double.IsNaN(p.Qber) ? "  -  " : p.Qber.ToString("P2", CultureInfo.InvariantCulture);
        string line = string.Create(CultureInfo.InvariantCulture,
            $"t {p.LinkSeconds,6:F3}/{p.DurationSeconds:G4} s | pulses {p.PulsesSent:E3} | detections {p.Detections,12:N0} | sifted {p.SiftedBits,12:N0} | QBER {qber} | secret {p.SecretBits,11:N0} bits | {p.SecretKeyRateBitsPerSecond / 1e3,9:F1} kb/s | blocks {p.BlocksDone}");
        _width = Math.Max(_width, line.Length);
        writer.Write("\r" + line.PadRight(_width));
    }

    public void Finish()
    {
        if (_width > 0) writer.WriteLine();
    }
}
