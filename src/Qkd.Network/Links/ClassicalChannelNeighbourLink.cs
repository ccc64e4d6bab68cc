using Qkd.Core.Channel;
using Qkd.Kme.PeerLink;

namespace Qkd.Network.Links;

/// <summary>
/// The production neighbour link: the network's own authenticated classical channel to one neighbour, beside the KME
/// link and the distillers' session channel (the node opens it as it opens the KME link: TCP, session, Wegman-Carter
/// with the link's pad, <see cref="KmeLinkChannel"/> wrapping one session). When a session ends the link is down;
/// <see cref="WaitUntilUpAsync"/> opens the next one, retrying with a delay doubling from 0.1 s to 2 s.
/// </summary>
public sealed class ClassicalChannelNeighbourLink(string neighbourId, Func<CancellationToken, ValueTask<KmeLinkChannel>> openSession)
    : INeighbourLink, IAsyncDisposable
{
    private KmeLinkChannel? _session;

    public string NeighbourId { get; } = neighbourId;

    public bool IsUp => _session is { IsConnected: true };

    public async ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        var session = _session ?? throw new NeighbourLinkDownException(NeighbourId);
        try { await session.Channel.SendAsync(message, cancellationToken); }
        catch (Exception e) when (e is ClassicalChannelClosedException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            await DropAsync(session);
            throw new NeighbourLinkDownException(NeighbourId, e);
        }
    }

    public async ValueTask<ReadOnlyMemory<byte>> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        var session = _session ?? throw new NeighbourLinkDownException(NeighbourId);
        try { return await session.Channel.ReceiveAsync(cancellationToken); }
        catch (Exception e) when (e is ClassicalChannelClosedException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            await DropAsync(session);
            throw new NeighbourLinkDownException(NeighbourId, e);
        }
    }

    public async Task WaitUntilUpAsync(CancellationToken cancellationToken = default)
    {
        var delay = TimeSpan.FromMilliseconds(100);
        while (!IsUp)
        {
            try
            {
                _session = await openSession(cancellationToken);
                return;
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(delay, cancellationToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(2).Ticks));
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_session is { } s) await DropAsync(s);
    }

    private async ValueTask DropAsync(KmeLinkChannel session)
    {
        if (Interlocked.CompareExchange(ref _session, null, session) == session) await session.DisposeAsync();
    }
}
