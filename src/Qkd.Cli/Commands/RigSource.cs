using System.CommandLine;
using Qkd.Emulation;
using Qkd.Emulation.Firmware;
using Qkd.Node.Devices;
using Qkd.Node.Link;

namespace Qkd.Cli.Commands;

/// <summary>
/// Which devices a lab command drives: the emulated bench (<c>--emulator</c>) or the devices of a bench file
/// (<c>--bench FILE</c>: real hardware, or `qkd emulate`'s devices on serial ports). Exactly one must be given.
/// </summary>
internal sealed class RigSource
{
    public readonly Option<bool> Emulator = new("--emulator") { Description = "Use the emulated bench." };
    public readonly Option<FileInfo?> Bench = new("--bench") { Description = "Use the devices of this bench file (serial ports or USB serial numbers; see README)." };

    public void AddTo(Command command)
    {
        command.Options.Add(Emulator);
        command.Options.Add(Bench);
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

    /// <summary>Connects and configures the chosen devices for <paramref name="profile"/> and <paramref name="settings"/> (sync on channel 0).</summary>
    public static LinkRig Open(DeviceBench? bench, LinkProfile profile, LinkSettings settings, ulong seed, EmulatedLabTruth? truth = null)
    {
        var rig = bench is not null
            ? bench.CreateRig()
            : LinkRig.CreateEmulated(profile, EmulatedSetup.TaggerOptionsFor(settings, long.MaxValue), seed, truth: truth);
        try
        {
            rig.Connect();
            rig.Configure(profile, settings, 0);
            return rig;
        }
        catch
        {
            rig.Dispose();
            throw;
        }
    }
}
