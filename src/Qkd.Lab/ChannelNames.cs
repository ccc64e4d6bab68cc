using Qkd.Core;
using Qkd.Emulation;
using Qkd.Emulation.TimeTagging;

namespace Qkd.Lab;

/// <summary>
/// Tagger inputs named by what they are wired to, as a lab book names them: "sync (ch 0)", "Z0 (ch 1)", "X1 (ch 4)" for a
/// passive four-detector receiver (basis and bit, the convention of <see cref="ReceiverLayout"/>), "bit 0 (ch 1)" for an
/// active two-detector one; "ch 7" for an input the wiring does not name (a recording without it).
/// </summary>
public static class ChannelNames
{
    private static readonly string[] PassiveRoles = ["Z0", "Z1", "X0", "X1"];

    /// <summary>The role of <paramref name="channel"/> alone ("Z0", "sync"), or null when the wiring does not name it.</summary>
    public static string? Role(EmulatedTimeTaggerOptions? tagger, LinkProfile? profile, ushort channel)
    {
        if (tagger is null) return null;
        if (channel == tagger.SyncChannel) return "sync";
        int detector = channel - tagger.FirstDetectorChannel;
        var layout = profile?.ReceiverLayout ?? ReceiverLayout.PassiveFourDetector;
        if (detector < 0 || detector >= layout.DetectorCount()) return null;
        return layout == ReceiverLayout.PassiveFourDetector ? PassiveRoles[detector] : $"bit {detector}";
    }

    /// <summary>"Z0 (ch 1)", or "ch 1" when the role is unknown.</summary>
    public static string Of(EmulatedTimeTaggerOptions? tagger, LinkProfile? profile, ushort channel) =>
        Role(tagger, profile, channel) is { } role ? $"{role} (ch {channel})" : $"ch {channel}";

    /// <summary>The name of <paramref name="channel"/> in <paramref name="capture"/>'s wiring.</summary>
    public static string Of(LabCapture capture, ushort channel)
    {
        ArgumentNullException.ThrowIfNull(capture);
        return Of(capture.TaggerOptions, capture.Profile, channel);
    }
}
