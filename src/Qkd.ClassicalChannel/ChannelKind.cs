namespace Qkd.ClassicalChannel;

/// <summary>
/// Which of a node's authenticated channels a frame belongs to. It is written in every frame header, under the tag, and
/// picks the channel's own lanes of the pad, so a frame of one channel shown to the other is refused (and counted)
/// instead of being taken for a frame of that channel.
/// </summary>
public enum ChannelKind : byte
{
    /// <summary>The session channel the distillers talk over.</summary>
    Session = 0,
    /// <summary>The KME link: reservations between the two key managers.</summary>
    KmeLink = 1,
}
