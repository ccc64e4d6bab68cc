using Qkd.Hardware.Peripherals;
using Qkd.Node.Devices;
using Qkd.ClassicalChannel;
using Qkd.Hardware.RandomNumberGenerator;
using Qkd.Lab.Run;
using System.CommandLine;
using Qkd.Emulation;
using Qkd.Lab;
using Qkd.Node.Link;

namespace Qkd.Cli.Commands;

/// <summary>
/// `qkd record`: writes a time-tag stream to a file that `qkd run --replay` distils and the lab commands measure: the
/// emulated tagger's (<c>--emulator</c>), or real devices' (<c>--bench</c>: a bench file, or a link-bench folder as
/// `qkd emulate --link-bench` writes), driven through their drivers. The file's metadata says whether the light reached
/// the detectors (`calibrate detector` needs it blocked).
/// </summary>
public static class RecordCommand
{
    public static Command Create()
    {
        var emulator = new Option<bool>("--emulator") { Description = "Record the emulated tagger in this process." };
        var bench = new Option<FileSystemInfo?>("--bench")
        {
            Description = "Record real devices through their drivers: a bench file (modulator, detector, tagger) or a link-bench folder " +
                          "(alice-bench.json, bob-bench.json, link-settings.json, receiver.json, as `qkd emulate --link-bench` writes; its link " +
                          "settings and receiver wiring are used and recorded).",
        };
        var output = new Option<FileInfo>("--out") { Description = "The time-tag file to write (format: firmware-protocols/time-tag-file.md).", Required = true };
        var profile = new Option<FileInfo?>("--profile") { Description = "Link profile JSON; default: built-in profile." };
        var distance = new Option<double?>("--distance-km") { Description = "Override the profile's fibre length, km." };
        var duration = new Option<double>("--duration-s") { Description = "Link time to record, seconds.", DefaultValueFactory = _ => 0.1 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the run (Alice's symbols, recomputed from it on replay).", DefaultValueFactory = _ => 7UL };
        var eavesdropper = new Option<string?>("--eavesdropper") { Description = "Emulated attack, modelled in the physics: " + EavesdropperSpec.Syntax + "." };

        var shutter = new Option<bool>("--shutter")
        {
            Description = "Close the emulated shutter in front of Bob's detectors (light blocked, sync still running): a dark recording for `qkd calibrate detector --replay`.",
        };
        var lightBlocked = new Option<bool>("--light-blocked")
        {
            Description = "On a bench: you have blocked the light in front of Bob's detectors (the host drives no shutter); recorded in the file's metadata, " +
                          "so `qkd calibrate detector --replay` accepts it as a dark recording.",
        };
        var command = new Command("record", "Record a time-tag stream for replay.")
        {
            emulator, bench, output, profile, distance, duration, seed, eavesdropper, shutter, lightBlocked,
        };
        command.SetAction((parse, cancellationToken) =>
        {
            TextWriter o = parse.InvocationConfiguration.Output, error = parse.InvocationConfiguration.Error;
            var benchPath = parse.GetValue(bench);
            if (parse.GetValue(emulator) == (benchPath is not null))
            {
                error.WriteLine("error: give exactly one source: --emulator or --bench FILE|DIR");
                return Task.FromResult(1);
            }
            if (benchPath is not null && parse.GetValue(shutter))
            {
                error.WriteLine("error: --shutter closes the emulated shutter; a bench has none the host drives: block the light and pass --light-blocked.");
                return Task.FromResult(1);
            }
            if (benchPath is not null && parse.GetValue(eavesdropper) is not null)
            {
                error.WriteLine("error: --eavesdropper is emulated; a bench records its own link.");
                return Task.FromResult(1);
            }
            if (benchPath is null && parse.GetValue(lightBlocked))
            {
                error.WriteLine("error: --light-blocked states what you did on a bench; on the emulator close its shutter with --shutter.");
                return Task.FromResult(1);
            }
            string path = parse.GetValue(output)!.FullName;
            try
            {
                // A profile file may still carry the transmitter settings (pulse rate, intensities, probabilities): read them too.
                var (linkProfile, settings) = parse.GetValue(profile) is FileInfo file
                    ? LinkProfileFile.Load(file.FullName)
                    : (LinkProfile.Default, LinkSettings.Default);
                if (parse.GetValue(distance) is double km) linkProfile = linkProfile.WithDistance(km);
                if (benchPath is not null)
                    return Task.FromResult(RecordBench(benchPath, linkProfile, parse.GetValue(distance) is not null, settings, parse.GetValue(duration), parse.GetValue(seed), path,
                        parse.GetValue(lightBlocked), o, cancellationToken));
                if (parse.GetValue(eavesdropper) is string eve) linkProfile = linkProfile with { Eavesdropper = EavesdropperSpec.Parse(eve) };
                // The shutter is loss in the receiver, as in the lab: Alice still emits and the sync still runs.
                bool closed = parse.GetValue(shutter);
                if (closed)
                    linkProfile = linkProfile with { BobInternalLossDb = linkProfile.BobInternalLossDb + DetectorCalibrationRun.ShutterLossDb };
                var options = new EmulatedRunOptions
                {
                    Profile = linkProfile,
                    Settings = settings,
                    DurationSeconds = parse.GetValue(duration),
                    Seed = parse.GetValue(seed),
                    KeysDirectory = Path.GetTempPath(),
                };
                long tags = Recording.Write(options, path, closed);
                o.WriteLine($"Recorded {tags:N0} time tags ({options.DurationSeconds} s of link time, seed {options.Seed}, light {(closed ? "blocked" : "on")}) to {path}");
                return Task.FromResult(0);
            }
            catch (OperationCanceledException)
            {
                error.WriteLine($"error: recording cancelled; {path} holds what was recorded until then, without a trailer (it replays only with --accept-damaged).");
                return Task.FromResult(1);
            }
            catch (Exception e) when (e is LinkProfileException or LinkSettingsException or ArgumentException or IOException or FormatException
                                          or System.Text.Json.JsonException or InvalidOperationException or Protocol.DeviceException or UnauthorizedAccessException)
            {
                error.WriteLine($"error: {e.Message}");
                return Task.FromResult(1);
            }
        });
        return command;
    }

    /// <summary>
    /// Records the devices of a bench file, or of a link-bench folder (Alice's modulator, Bob's detector and tagger, with
    /// the folder's link settings and receiver wiring), through the drivers.
    /// </summary>
    private static int RecordBench(FileSystemInfo benchPath, LinkProfile profile, bool distanceGiven, LinkSettings settings, double durationSeconds, ulong seed, string path,
        bool lightBlocked, TextWriter output, CancellationToken cancellationToken)
    {
        DeviceBench devices;
        ReceiverSettings? receiver = null;
        if (Directory.Exists(benchPath.FullName))
        {
            var (alice, bob, linkSettings, bobReceiver) = EmulatedLinkBench.Read(benchPath.FullName);
            devices = new DeviceBench
            {
                Description = $"link bench {benchPath.FullName}",
                Modulator = alice.Modulator,
                Detector = bob.Detector,
                Tagger = bob.Tagger,
                ReplyTimeoutMs = Math.Max(alice.ReplyTimeoutMs ?? 0, bob.ReplyTimeoutMs ?? 0) is int ms and > 0 ? ms : null,
                WriteTimeoutMs = Math.Max(alice.WriteTimeoutMs ?? 0, bob.WriteTimeoutMs ?? 0) is int write and > 0 ? write : null,
            };
            settings = linkSettings with { BlockSizeBits = settings.BlockSizeBits };
            receiver = bobReceiver;
            profile = profile with { ReceiverLayout = bobReceiver.Layout };
            // The bench's measured path delay says how much fibre there is, unless the user said otherwise: the recorded
            // profile then describes this bench, not the built-in 25 km.
            if (!distanceGiven && bobReceiver.PathDelayPs > 0 && profile.FibreLengthKm > 0)
                profile = profile.WithDistance(Math.Round(bobReceiver.PathDelayPs / (profile.FibreDelayPs / profile.FibreLengthKm), 3));
        }
        else
            devices = DeviceBench.Load(benchPath.FullName);
        if (!(durationSeconds > 0) || settings.PulseRateHz * durationSeconds > 1e13)
            throw new ArgumentException($"--duration-s {durationSeconds} must be positive and at most 1e13 pulses at {settings.PulseRateHz:G3} pulses/s.");
        long pulses = Math.Max(1, (long)Math.Round(settings.PulseRateHz * durationSeconds));
        using var rig = devices.CreateRig();
        long tags = Recording.WriteFromDevices(rig, profile, settings, receiver, seed, pulses, path, lightBlocked, cancellationToken);
        output.WriteLine($"Recorded {tags:N0} time tags from {rig.Description} ({pulses:N0} pulses, {durationSeconds} s of link time at {settings.PulseRateHz:G3} pulses/s, " +
                         $"seed {seed}, light {(lightBlocked ? "blocked (as you stated)" : "on")}) to {path}");
        return 0;
    }
}
