namespace Qkd.Acquisition.Replay;

/// <summary>
/// Everything a time-tag file says about its recording besides the tags: the resolution the timestamps are stored in,
/// the channels, when it was made and free-form metadata (setup, fibre length, operator notes).
/// </summary>
public sealed class TimeTagFileHeader
{
    public TimeTagFileHeader(
        uint resolutionPs,
        IReadOnlyList<TimeTagChannelDescription> channels,
        DateTimeOffset createdUtc,
        IReadOnlyList<KeyValuePair<string, string>>? metadata = null)
    {
        if (resolutionPs == 0)
            throw new ArgumentOutOfRangeException(nameof(resolutionPs), "The tag resolution must be at least 1 ps.");
        ArgumentNullException.ThrowIfNull(channels);
        if (channels.Count > ushort.MaxValue)
            throw new ArgumentException($"At most {ushort.MaxValue} channels fit in a header, {channels.Count} given.", nameof(channels));
        var seen = new HashSet<ushort>();
        foreach (var channel in channels)
        {
            ArgumentNullException.ThrowIfNull(channel, nameof(channels));
            if (!seen.Add(channel.Channel))
                throw new ArgumentException($"Channel {channel.Channel} is described twice.", nameof(channels));
            if (!Enum.IsDefined(channel.Role))
                throw new ArgumentException($"Channel {channel.Channel} has an unknown role {(byte)channel.Role}.", nameof(channels));
        }
        metadata ??= [];
        if (metadata.Count > ushort.MaxValue)
            throw new ArgumentException($"At most {ushort.MaxValue} metadata entries fit in a header, {metadata.Count} given.", nameof(metadata));
        ResolutionPs = resolutionPs;
        Channels = channels;
        CreatedUtc = createdUtc.ToUniversalTime();
        Metadata = metadata;
    }

    /// <summary>Picoseconds per stored tick; every timestamp written must be a multiple of it.</summary>
    public uint ResolutionPs { get; }

    public IReadOnlyList<TimeTagChannelDescription> Channels { get; }

    /// <summary>When the recording was made; stored with microsecond precision.</summary>
    public DateTimeOffset CreatedUtc { get; }

    /// <summary>Free-form key/value pairs, kept in order; keys need not be unique.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Metadata { get; }

    /// <summary>The first value stored under <paramref name="key"/>, or null.</summary>
    public string? FindMetadata(string key)
    {
        foreach (var (k, v) in Metadata)
            if (k == key) return v;
        return null;
    }
}
