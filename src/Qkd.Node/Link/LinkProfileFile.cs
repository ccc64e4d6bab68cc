using System.Text.Json;
using System.Text.Json.Nodes;
using Qkd.Emulation;

namespace Qkd.Node.Link;

/// <summary>
/// Link profile files as users have them (`qkd run --profile x.json`, a node config's emulator profile, a recording's
/// metadata). The physics goes to <see cref="LinkProfile"/>. Profiles written before link settings had a home of
/// their own also carry Alice's transmitter settings and choice probabilities (<see cref="TransmitterFields"/>:
/// pulseRateHz, the three mean photon numbers, the three intensity probabilities and aliceProbabilityZ); those are
/// still read, into <see cref="LinkSettings"/>, on top of the settings given. The shipped profiles still carry them.
/// </summary>
public static class LinkProfileFile
{
    /// <summary>The link-settings fields a profile file may carry (their JSON names in both).</summary>
    public static IReadOnlyList<string> TransmitterFields { get; } =
    [
        "pulseRateHz", "signalMeanPhotonNumber", "decoyMeanPhotonNumber", "vacuumMeanPhotonNumber",
        "signalProbability", "decoyProbability", "vacuumProbability", "aliceProbabilityZ",
    ];

    private static readonly JsonDocumentOptions DocumentOptions = new() { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true };

    /// <summary>Reads a profile file: its physics, and <paramref name="settings"/> (default: built-in) with the transmitter fields it carries.</summary>
    /// <exception cref="LinkProfileException">The physics is invalid; the message names the file and the field.</exception>
    /// <exception cref="LinkSettingsException">A transmitter field is invalid; the message names the file and the setting.</exception>
    public static (LinkProfile Profile, LinkSettings Settings) Load(string path, LinkSettings? settings = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        string json = File.ReadAllText(path);
        try
        {
            return Parse(json, settings);
        }
        catch (LinkProfileException e)
        {
            throw new LinkProfileException(e.Field, $"Link profile '{path}': {e.Message}", e);
        }
        catch (LinkSettingsException e)
        {
            throw new LinkSettingsException(e.Setting, $"Link profile '{path}': {e.Message}", e);
        }
    }

    /// <summary>Parses a profile: its physics, and <paramref name="settings"/> (default: built-in) with the transmitter fields it carries.</summary>
    public static (LinkProfile Profile, LinkSettings Settings) Parse(string json, LinkSettings? settings = null)
    {
        ArgumentNullException.ThrowIfNull(json);
        settings ??= LinkSettings.Default;
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(json, documentOptions: DocumentOptions);
        }
        catch (JsonException e)
        {
            throw new LinkProfileException(e.Path ?? "$", $"Invalid link profile JSON: {e.Message}", e);
        }
        if (root is not JsonObject profile)
            return (LinkProfile.Parse(json), settings); // not an object: the profile parser says what is wrong

        JsonObject? carried = null;
        foreach (string field in TransmitterFields)
        {
            if (!profile.TryGetPropertyValue(field, out JsonNode? value)) continue;
            profile.Remove(field);
            carried ??= JsonNode.Parse(settings.ToJson())!.AsObject();
            carried[field] = value;
        }
        var physics = LinkProfile.Parse(profile.ToJsonString());
        return (physics, carried is null ? settings : LinkSettings.Parse(carried.ToJsonString()));
    }
}
