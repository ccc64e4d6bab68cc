namespace Qkd.Protocol;

/// <summary>Turns what a transport reads into checked frames; one per transport, fed from its one reader thread.</summary>
public interface IFrameDecoder
{
    FrameDecoderCounters Counters { get; }

    /// <summary>Feeds what one transport read returned; calls <paramref name="handler"/> for every valid frame in it.</summary>
    void Push<THandler>(ReadOnlySpan<byte> received, THandler handler) where THandler : IFrameHandler;

    /// <summary>Forgets a partial frame (after a reconnect: its start came from the old connection).</summary>
    void Reset();

    public static IFrameDecoder For(Transport.FramingKind framing) =>
        framing == Transport.FramingKind.Packet ? new PacketFrameDecoder() : new StreamFrameDecoder();
}
