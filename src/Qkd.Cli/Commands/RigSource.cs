using System.CommandLine;
using Qkd.Emulation;
using Qkd.Emulation.Firmware;
using Qkd.Lab;
using Qkd.Node.Devices;
using Qkd.Node.Link;

namespace Qkd.Cli.Commands;

/// <summary>
/// Which devices a lab command drives: the emulated bench (<c>--emulator</c>) or the devices of a bench file
/// (<c>--bench FILE</c>: real hardware, or `qkd emulate`'s devices on serial ports). Exactly one must be given. The
/// emulated bench is the one `qkd emulate --bench-out` serves (the same cable delays), so both give the same physics.
/// Commands that sift (monitor, alignment) also take the receiver timing: <c>--delays FILE</c> from
/// <c>qkd calibrate delays --write-config</c>, or measured on the rig first from <c>--timing-pulses</c> pulses.
/// </summary>
internal sealed class RigSource
{
    public readonly Option<bool> Emulator = new("--emulator") { Description = "Use the emulated bench." };
    public readonly Option<FileInfo?> Bench = new("--bench") { Description = "Use the devices of this bench file (serial ports or USB serial numbers; see README)." };
    public readonly Option<FileInfo?> Delays = new("--delays")
    {
        Description = "Detector delays from `qkd calibrate delays --write-config` (default: measured on the devices before the measurement).",
    };
    public readonly Option<long> TimingPulses = new("--timing-pulses")
    {
        Description = "Pulses emitted to measure the detector delays when --delays is not given.",
        DefaultValueFactory = _ => LabReceiverTiming.DefaultTimingPulses,
    };

    public void AddTo(Command command)
    {
        command.Options.Add(Emulator);
        command.Options.Add(Bench);
    }

    /// <summary>Adds the receiver timing options (<c>--delays</c>, <c>--timing-pulses</c>).</summary>
    public void AddTimingTo(Command command)
    {
        command.Options.Add(Delays);
        command.Options.Add(TimingPulses);
    }

    /// <summary>The bench file's devices, or null for the emulator; an error text if the choice is wrong.</summary>
    public (DeviceBench? Bench, string? Error) Choose(ParseResult parse)
    {
        bool emulator = parse.GetValue(Emulator);
        var file = parse.GetValue(Bench);
        if (emulator == (file is not null)) return (null, "give exactly one source: --emulator or --bench FILE");
        if (file is null) return (null, null);
        try
        {
            return (DeviceBench.Load(file.FullName), null);
        }
        catch (Exception e) when (e is InvalidDataException or FileNotFoundException or IOException)
        {
            return (null, e.Message);
        }
    }

    /// <summary>The delay calibration of <c>--delays</c>, or null when the delays are to be measured.</summary>
    /// <exception cref="ArgumentException">The file is missing or not a delay configuration.</exception>
    public DelayConfiguration? DelayFile(ParseResult parse)
    {
        var file = parse.GetValue(Delays);
        if (file is null) return null;
        if (!file.Exists) throw new ArgumentException($"{file.FullName}: the delay calibration file does not exist.");
        return DelayConfiguration.Load(file.FullName);
    }

    /// <summary>
    /// The receiver timing for a measurement on <paramref name="rig"/> (configured, the gate and phases already set):
    /// <paramref name="delays"/> when given, else measured on the rig.
    /// </summary>
    public LabReceiverTiming Timing(ParseResult parse, DelayConfiguration? delays, LinkRig rig, LinkProfile profile, LinkSettings settings, ulong seed,
        CancellationToken cancellationToken)
    {
        if (delays is not null) return LabReceiverTiming.FromDelays(delays, parse.GetValue(Delays)!.FullName, profile, settings);
        long pulses = parse.GetValue(TimingPulses);
        if (pulses is < 1 or > 10_000_000_000) throw new ArgumentException($"--timing-pulses must lie in [1, 1e10], got {pulses}.");
        return LabReceiverTiming.Measure(rig, profile, settings, pulses, seed, cancellationToken);
    }

    /// <summary>
    /// Connects and configures the chosen devices for <paramref name="profile"/> and <paramref name="settings"/>, Alice's
    /// sync on <paramref name="syncChannel"/>. The emulated bench is `qkd emulate`'s: its physics is
    /// <paramref name="profile"/>, its tagger inputs have the bench's cable delays.
    /// </summary>
    public static LinkRig Open(DeviceBench? bench, LinkProfile profile, LinkSettings settings, ulong seed, EmulatedLabTruth? truth = null, ushort syncChannel = 0)
    {
        var rig = bench is not null
            ? bench.CreateRig()
            : LinkRig.CreateEmulated(profile, EmulatedBench.TaggerOptions with { SyncChannel = syncChannel, SyncDivider = settings.PulsesPerSync, EndPulse = long.MaxValue },
                seed, truth: truth);
        try
        {
            rig.Connect();
            rig.Configure(profile, settings, syncChannel);
            return rig;
        }
        catch
        {
            rig.Dispose();
            throw;
        }
    }
}
