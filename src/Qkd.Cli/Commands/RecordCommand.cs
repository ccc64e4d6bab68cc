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

/// <summary>`qkd record`: writes an emulated link's time-tag stream to a file that `qkd run --replay` distils.</summary>
public static class RecordCommand
{
    public static Command Create()
    {
        var emulator = new Option<bool>("--emulator") { Description = "Record the emulated tagger (the only source in this build)." };
        var output = new Option<FileInfo>("--out") { Description = "The time-tag file to write (format: firmware-protocols/time-tag-file.md).", Required = true };
        var profile = new Option<FileInfo?>("--profile") { Description = "Link profile JSON; default: built-in profile." };
        var distance = new Option<double?>("--distance-km") { Description = "Override the profile's fibre length, km." };
        var duration = new Option<double>("--duration-s") { Description = "Link time to record, seconds.", DefaultValueFactory = _ => 0.1 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the run.", DefaultValueFactory = _ => 7UL };
        var eavesdropper = new Option<string?>("--eavesdropper") { Description = "Emulated attack: none, intercept-resend:FRACTION, pns[:FRACTION]." };

        var shutter = new Option<bool>("--shutter")
        {
            Description = "Close the emulated shutter in front of Bob's detectors (light blocked, sync still running): a dark recording for `qkd calibrate detector --replay`.",
        };
        var command = new Command("record", "Record a time-tag stream for replay.") { emulator, output, profile, distance, duration, seed, eavesdropper, shutter };
        command.SetAction(parse =>
        {
            TextWriter o = parse.InvocationConfiguration.Output, error = parse.InvocationConfiguration.Error;
            if (!parse.GetValue(emulator))
            {
                error.WriteLine("error: only the emulated tagger can be recorded in this build; add --emulator.");
                return 1;
            }
            try
            {
                // A profile file may still carry the transmitter settings (pulse rate, intensities, probabilities): read them too.
                var (linkProfile, settings) = parse.GetValue(profile) is FileInfo file
                    ? LinkProfileFile.Load(file.FullName)
                    : (LinkProfile.Default, LinkSettings.Default);
                if (parse.GetValue(distance) is double km) linkProfile = linkProfile.WithDistance(km);
                if (parse.GetValue(eavesdropper) is string eve) linkProfile = linkProfile with { Eavesdropper = EavesdropperSpec.Parse(eve) };
                // The shutter is loss in the receiver, as in the lab: Alice still emits and the sync still runs.
                if (parse.GetValue(shutter))
                    linkProfile = linkProfile with { BobInternalLossDb = linkProfile.BobInternalLossDb + DetectorCalibrationRun.ShutterLossDb };
                var options = new EmulatedRunOptions
                {
                    Profile = linkProfile,
                    Settings = settings,
                    DurationSeconds = parse.GetValue(duration),
                    Seed = parse.GetValue(seed),
                    KeysDirectory = Path.GetTempPath(),
                };
                string path = parse.GetValue(output)!.FullName;
                long tags = Recording.Write(options, path);
                o.WriteLine($"Recorded {tags:N0} time tags ({options.DurationSeconds} s of link time, seed {options.Seed}) to {path}");
                return 0;
            }
            catch (Exception e) when (e is LinkProfileException or ArgumentException or IOException or FormatException or System.Text.Json.JsonException)
            {
                error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
