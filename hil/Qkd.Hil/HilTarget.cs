using System.Text.Json;
using System.Text.Json.Serialization;
using Qkd.Emulation;
using Qkd.Emulation.Hosting;
using Qkd.Node.Devices;
using Qkd.Node.Link;

namespace Qkd.Hil;

/// <summary>
/// Where the HIL scenarios run, read from a JSON file in hil/targets/: emulated devices in process or behind real
/// pseudo-terminals, or real devices (serial ports or USB serial numbers). The scenarios are the same on every target;
/// the target only says how to reach the devices and how long a run may take.
/// </summary>
public sealed record HilTarget
{
    public required string Name { get; init; }
    public string Description { get; init; } = "";

    /// <summary>"emulated" or "hardware".</summary>
    public required string Kind { get; init; }

    /// <summary>For emulated targets: "inproc" or "pty".</summary>
    public string? Transport { get; init; }

    public double DurationSeconds { get; init; } = 0.5;
    public long BlockSizeBits { get; init; } = 1 << 22;

    /// <summary>Whether a run on this target is long enough to finish a privacy-amplification block with key.</summary>
    public bool ExpectKey { get; init; }

    /// <summary>Link profile file (relative to this file), for the expected physics; default: the built-in profile.</summary>
    public string? Profile { get; init; }

    /// <summary>For hardware targets: where the devices are (the same format as a lab `--bench` file).</summary>
    public DeviceBench? Devices { get; init; }

    [JsonIgnore]
    public string? SourceFile { get; init; }

    public bool IsEmulated => Kind == "emulated";

    /// <summary>Reads and checks a target file; every problem names the file and the field.</summary>
    public static HilTarget Load(string path)
    {
        HilTarget target;
        try
        {
            target = JsonSerializer.Deserialize(File.ReadAllText(path), HilJson.Target)
                ?? throw new InvalidDataException($"{path}: empty target file");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: {e.Message}", e);
        }
        target = target with { SourceFile = Path.GetFullPath(path) };
        string? problem = target.Kind switch
        {
            "emulated" when target.Transport is not ("inproc" or "pty") => $"transport must be \"inproc\" or \"pty\", not \"{target.Transport}\"",
            "hardware" when target.Devices is null => "a hardware target needs \"devices\" (modulator, detector, tagger)",
            "emulated" or "hardware" => null,
            _ => $"kind must be \"emulated\" or \"hardware\", not \"{target.Kind}\"",
        };
        if (problem is null && !(target.DurationSeconds > 0 && target.DurationSeconds <= 600)) problem = $"durationSeconds {target.DurationSeconds} is outside (0, 600]";
        if (problem is null && target.Devices is { } devices)
        {
            try { devices.Validate(); }
            catch (InvalidDataException e) { problem = "devices: " + e.Message; }
        }
        if (problem is not null) throw new InvalidDataException($"{path}: {problem}");
        return target;
    }

    /// <summary>The expected physics: the profile file's, or the built-in profile.</summary>
    public LinkProfile LinkProfile() => Link().Profile;

    /// <summary>The link settings: the built-in ones with this target's block size, and the transmitter settings the profile file carries.</summary>
    public LinkSettings LinkSettings() => Link().Settings;

    private (LinkProfile Profile, LinkSettings Settings) Link()
    {
        var settings = Node.Link.LinkSettings.Default with { BlockSizeBits = BlockSizeBits };
        return Profile is null
            ? (Emulation.LinkProfile.Default, settings)
            : LinkProfileFile.Load(Path.Combine(Path.GetDirectoryName(SourceFile) ?? ".", Profile), settings);
    }

    /// <summary>The devices of this target, not yet connected, for a link with <paramref name="profile"/> and <paramref name="settings"/>.</summary>
    public LinkRig CreateRig(LinkProfile profile, LinkSettings settings, ulong seed)
    {
        if (IsEmulated)
            return LinkRig.CreateEmulated(profile, EmulatedSetup.TaggerOptionsFor(settings, long.MaxValue), seed,
                Transport == "pty" ? EmulatedDeviceTransport.PseudoTerminal : EmulatedDeviceTransport.InProcess);
        return Devices!.CreateRig(source: SourceFile);
    }
}
