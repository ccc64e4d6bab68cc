using System.Net;
using System.Net.Sockets;
using CsCheck;
using Microsoft.Extensions.Logging.Abstractions;
using Qkd.Core.Channel;

namespace Qkd.ClassicalChannel.Tests;

/// <summary>
/// The session layer alone, over real loopback sockets, against a peer the test plays frame by frame: handshakes,
/// resume and resend, acknowledgements, sequence and connection checks, End, lost sessions. No transport loops run,
/// so every step happens exactly when the test takes it.
/// </summary>
public sealed class ChannelSessionTests : IDisposable
{
    private readonly CancellationTokenSource _timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

    // Only a safety net: every wait below is for a frame or a task, never for time to pass.
    public ChannelSessionTests() => _timeout.CancelAfter(TimeSpan.FromSeconds(60));

    private CancellationToken Token => _timeout.Token;

    public void Dispose() => _timeout.Dispose();

    private static byte[] Message(long sequence) => [.. BitConverter.GetBytes(sequence), .. new byte[sequence % 50]];

    private static void AssertData(FrameVerification frame, long sequence)
    {
        Assert.Equal(FrameType.Data, frame.Header.Type);
        Assert.Equal(sequence, frame.Header.Sequence);
        Assert.Equal(Message(sequence), frame.Payload.ToArray());
    }

    private static async Task SendAsync(ChannelSession session, long sequence, CancellationToken token)
    {
        session.Enqueue(Message(sequence));
        await session.FlushAsync(token);
    }

    /// <summary>A serving task that ends because the test tore its connection down.</summary>
    private static async Task Ended(Task serving)
    {
        try { await serving; }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException or OperationCanceledException) { }
    }

    /// <summary>The session under test at one end, and the authenticator and counters of the peer the test plays.</summary>
    private sealed class Setup : IAsyncDisposable
    {
        private readonly TcpClassicalChannelOptions _options;
        private readonly AuthenticationPadStore _pad;
        private readonly AuthenticationPadStore _peerPad;
        private readonly WegmanCarterAuthenticator _authenticator;
        private readonly WegmanCarterAuthenticator _peerAuthenticator;
        private readonly ChannelSecurityCounters _peerSecurity;
        private readonly List<ScriptedPeer> _peers = [];

        public Setup(TestPads pads, ChannelEnd end, bool connector)
        {
            End = end;
            Peer = end == ChannelEnd.Alice ? ChannelEnd.Bob : ChannelEnd.Alice;
            // No standalone acknowledgements during a test: every frame on the wire is one the test expects.
            _options = (connector ? TestPads.Connector(new IPEndPoint(IPAddress.Loopback, 9), end) : TestPads.Listener(end)) with { AckDelay = TimeSpan.FromHours(1) };
            _pad = pads.Open(end);
            _peerPad = pads.Open(Peer);
            Security = new ChannelSecurityCounters(_pad);
            _peerSecurity = new ChannelSecurityCounters(_peerPad);
            _authenticator = new WegmanCarterAuthenticator(_pad, ChannelKind.Session, Security);
            _peerAuthenticator = new WegmanCarterAuthenticator(_peerPad, ChannelKind.Session, _peerSecurity);
            Session = new ChannelSession(_options, _authenticator, Security, NullLogger.Instance);
        }

        public ChannelEnd End { get; }
        public ChannelEnd Peer { get; }
        public ChannelSession Session { get; }
        public ChannelSecurityCounters Security { get; }

        public async Task<(FrameConnection Connection, ScriptedPeer Peer)> ConnectAsync(CancellationToken token)
        {
            var (near, far) = await LoopbackSockets.ConnectAsync(token);
            var peer = new ScriptedPeer(_peerAuthenticator, Peer, far, _peerSecurity);
            _peers.Add(peer);
            return (new FrameConnection(near, _options.MaxMessageBytes, End, Security, NullLogger.Instance), peer);
        }

        public async ValueTask DisposeAsync()
        {
            await Session.DisposeAsync();
            foreach (var peer in _peers) peer.Abort();
            _pad.Dispose();
            _peerPad.Dispose();
        }
    }

    private static ulong NewNonce() => (ulong)Random.Shared.NextInt64(1, long.MaxValue);

    /// <summary>
    /// The session connects; the test answers as the listener of <paramref name="session"/> that has received up to
    /// <paramref name="peerLastReceived"/>. Returns the session's serving task and the peer.
    /// </summary>
    private async Task<(Task Serving, ScriptedPeer Peer, FrameHeader Hello, FrameHeader Resume)> ConnectorHandshakeAsync(
        Setup setup, Guid session, long peerLastReceived, byte flags = 0)
    {
        var (connection, peer) = await setup.ConnectAsync(Token);
        var handshake = setup.Session.HandshakeAsync(connection, Token).AsTask();
        var hello = (await peer.ReadAsync(Token)).Header;
        Assert.Equal(FrameType.Hello, hello.Type);
        Assert.Equal(0UL, hello.ListenerNonce);
        peer.SessionId = session;
        peer.ConnectorNonce = hello.ConnectorNonce;
        peer.ListenerNonce = NewNonce();
        await peer.SendAsync(FrameType.Welcome, 0, peerLastReceived, flags: flags);
        var resume = (await peer.ReadAsync(Token)).Header;
        Assert.Equal(FrameType.Resume, resume.Type);
        Assert.Equal((session, peer.ConnectorNonce, peer.ListenerNonce), (resume.SessionId, resume.ConnectorNonce, resume.ListenerNonce));
        Assert.True(await handshake);
        return (setup.Session.ServeAsync(connection, Token), peer, hello, resume);
    }

    /// <summary>The test connects as the connector of <paramref name="session"/> (empty: a new one) that has received up to <paramref name="peerLastReceived"/>.</summary>
    private async Task<(Task Serving, ScriptedPeer Peer, FrameHeader Welcome)> ListenerHandshakeAsync(Setup setup, Guid session, long peerLastReceived)
    {
        var (connection, peer) = await setup.ConnectAsync(Token);
        var handshake = setup.Session.HandshakeAsync(connection, Token).AsTask();
        peer.SessionId = session;
        peer.ConnectorNonce = NewNonce();
        peer.ListenerNonce = 0;
        await peer.SendAsync(FrameType.Hello, 0, 0);
        var welcome = (await peer.ReadAsync(Token)).Header;
        Assert.Equal(FrameType.Welcome, welcome.Type);
        Assert.Equal(peer.ConnectorNonce, welcome.ConnectorNonce);
        Assert.NotEqual(0UL, welcome.ListenerNonce);
        Assert.NotEqual(Guid.Empty, welcome.SessionId);
        peer.SessionId = welcome.SessionId;
        peer.ListenerNonce = welcome.ListenerNonce;
        await peer.SendAsync(FrameType.Resume, 0, peerLastReceived);
        Assert.True(await handshake);
        return (setup.Session.ServeAsync(connection, Token), peer, welcome);
    }

    [Fact]
    public async Task After_a_resume_the_session_resends_exactly_what_the_peer_lacks_then_the_new_messages()
    {
        // sent on the first connection; of those, how many the peer says it received; queued while disconnected.
        await Gen.Select(Gen.Int[1, 6], Gen.Int[0, 6], Gen.Int[0, 3]).SampleAsync(async (sent, received, queued) =>
        {
            int kept = Math.Min(received, sent);
            using var pads = new TestPads(padBytes: 64 * 1024);
            await using var setup = new Setup(pads, ChannelEnd.Alice, connector: true);
            var session = Guid.NewGuid();

            var (serving, peer, hello, _) = await ConnectorHandshakeAsync(setup, session, peerLastReceived: 0);
            Assert.Equal(Guid.Empty, hello.SessionId); // a new session takes the listener's id
            Assert.Equal(session, setup.Session.Id);
            for (int i = 1; i <= sent; i++) await SendAsync(setup.Session, i, Token);
            for (int i = 1; i <= sent; i++) AssertData(await peer.ReadAsync(Token), i);
            peer.HangUp();
            await serving;
            Assert.False(setup.Session.IsConnected);
            for (int i = sent + 1; i <= sent + queued; i++) await SendAsync(setup.Session, i, Token); // nothing carries them yet

            // The peer lost everything after `kept` with the connection: it says so in its Welcome.
            var (serving2, peer2, hello2, _) = await ConnectorHandshakeAsync(setup, session, kept, flags: FrameHeader.HasDataFlag);
            Assert.Equal(session, hello2.SessionId);
            for (int i = kept + 1; i <= sent + queued; i++) AssertData(await peer2.ReadAsync(Token), i);
            Assert.Equal(sent - kept, setup.Security.ResentMessages);
            Assert.Equal(1, setup.Security.Reconnects);

            // The peer acknowledges everything on a message of its own; once it is delivered, the resend queue is empty.
            await peer2.SendAsync(FrameType.Data, 1, sent + queued, [42]);
            Assert.Equal([42], (await setup.Session.ReceiveAsync(Token)).ToArray());
            Assert.Equal(0, setup.Session.UnacknowledgedMessages);

            // Nothing else was resent: the next frame on the wire is the next new message, acknowledging the peer's.
            await SendAsync(setup.Session, sent + queued + 1, Token);
            var next = await peer2.ReadAsync(Token);
            AssertData(next, sent + queued + 1);
            Assert.Equal(1, next.Header.Acknowledged);
            await setup.Session.DisposeAsync();
            await Ended(serving2);
        }, iter: 25, threads: 1);
    }

    [Fact]
    public async Task A_listener_session_opens_the_session_resends_after_resume_and_stops_when_the_peer_lost_it()
    {
        using var pads = new TestPads(padBytes: 64 * 1024);
        await using var setup = new Setup(pads, ChannelEnd.Bob, connector: false);

        var (serving, peer, welcome) = await ListenerHandshakeAsync(setup, Guid.Empty, peerLastReceived: 0);
        Assert.Equal(0, welcome.Acknowledged);
        Assert.Equal(0, welcome.Flags & FrameHeader.HasDataFlag);
        var session = welcome.SessionId;
        for (int i = 1; i <= 3; i++) await SendAsync(setup.Session, i, Token);
        for (int i = 1; i <= 3; i++) AssertData(await peer.ReadAsync(Token), i);
        peer.HangUp();
        await serving;

        // The connector comes back with its session and says it has message 1: 2 and 3 are resent.
        var (serving2, peer2, welcome2) = await ListenerHandshakeAsync(setup, session, peerLastReceived: 1);
        Assert.Equal(session, welcome2.SessionId);
        Assert.NotEqual(welcome.ListenerNonce, welcome2.ListenerNonce);
        Assert.Equal(FrameHeader.HasDataFlag, welcome2.Flags & FrameHeader.HasDataFlag);
        AssertData(await peer2.ReadAsync(Token), 2);
        AssertData(await peer2.ReadAsync(Token), 3);
        Assert.Equal(2, setup.Security.ResentMessages);
        peer2.HangUp();
        await serving2;

        // Then it comes back as a new process, without the session: this end cannot quietly start over.
        var (connection, peer3) = await setup.ConnectAsync(Token);
        var handshake = setup.Session.HandshakeAsync(connection, Token).AsTask();
        peer3.ConnectorNonce = NewNonce();
        await peer3.SendAsync(FrameType.Hello, 0, 0);
        Assert.False(await handshake);
        Assert.Equal(ChannelCloseReason.SessionLost, setup.Session.CloseReason);
        var e = await Assert.ThrowsAsync<ClassicalChannelClosedException>(async () => await setup.Session.ReceiveAsync(Token));
        Assert.Contains("restarted", e.Message);
        Assert.Throws<ClassicalChannelClosedException>(() => setup.Session.Enqueue(Message(4)));
        Assert.True(setup.Session.Stopping.WaitHandle.WaitOne(TimeSpan.FromSeconds(30)), "the session's stop was not signalled");
    }

    [Fact]
    public async Task Duplicates_are_dropped_a_sequence_gap_resets_and_frames_of_another_connection_are_replays()
    {
        using var pads = new TestPads(padBytes: 64 * 1024);
        await using var setup = new Setup(pads, ChannelEnd.Alice, connector: true);
        var session = Guid.NewGuid();
        var (serving, peer, _, _) = await ConnectorHandshakeAsync(setup, session, 0);

        await peer.SendAsync(FrameType.Data, 1, 0, Message(1));
        await peer.SendAsync(FrameType.Data, 1, 0, Message(1)); // a genuine resend of what was already delivered
        await peer.SendAsync(FrameType.Data, 2, 0, Message(2));
        Assert.Equal(Message(1), (await setup.Session.ReceiveAsync(Token)).ToArray());
        Assert.Equal(Message(2), (await setup.Session.ReceiveAsync(Token)).ToArray());
        Assert.Equal(1, setup.Security.DuplicatesDropped);

        // Message 3 lost on the way: 4 is refused, never delivered, and the connection is dropped.
        await peer.SendAsync(FrameType.Data, 4, 0, Message(4));
        await serving;
        Assert.Equal(1, setup.Security.Reorders);
        Assert.False(setup.Session.IsConnected);

        // The resume tells the peer where this end stands; a frame still naming the old connection is a replay and
        // skipped, and the connection goes on.
        var oldListenerNonce = peer.ListenerNonce;
        var (serving2, peer2, _, resume) = await ConnectorHandshakeAsync(setup, session, 0, FrameHeader.HasDataFlag);
        Assert.Equal(2, resume.Acknowledged);
        await peer2.SendAsync(FrameType.Data, 3, 0, Message(3), listenerNonce: oldListenerNonce);
        await peer2.SendAsync(FrameType.Data, 3, 0, Message(3));
        Assert.Equal(Message(3), (await setup.Session.ReceiveAsync(Token)).ToArray());
        Assert.Equal(1, setup.Security.Replays);
        Assert.True(setup.Session.IsConnected);
        Assert.Equal(2, setup.Security.RejectedTotal);
        await setup.Session.DisposeAsync();
        await Ended(serving2);
    }

    [Fact]
    public async Task Complete_sends_End_in_sequence_and_the_peer_s_End_closes_receiving()
    {
        using var pads = new TestPads(padBytes: 64 * 1024);
        await using var setup = new Setup(pads, ChannelEnd.Bob, connector: false);
        var (serving, peer, _) = await ListenerHandshakeAsync(setup, Guid.Empty, 0);

        await SendAsync(setup.Session, 1, Token);
        setup.Session.Complete();
        AssertData(await peer.ReadAsync(Token), 1);
        var end = (await peer.ReadAsync(Token)).Header;
        Assert.Equal((FrameType.End, 2L), (end.Type, end.Sequence));
        Assert.Throws<InvalidOperationException>(() => setup.Session.Enqueue(Message(3)));

        await peer.SendAsync(FrameType.Data, 1, 2, Message(1));
        await peer.SendAsync(FrameType.End, 2, 2);
        Assert.Equal(Message(1), (await setup.Session.ReceiveAsync(Token)).ToArray());
        var e = await Assert.ThrowsAsync<ClassicalChannelClosedException>(async () => await setup.Session.ReceiveAsync(Token));
        Assert.Contains("completed", e.Message);
        Assert.Equal(ChannelCloseReason.PeerCompleted, setup.Session.CloseReason);
        Assert.Equal(0, setup.Session.UnacknowledgedMessages); // the peer's frames acknowledged both
        await setup.Session.DisposeAsync();
        await Ended(serving);
    }

    [Fact]
    public async Task A_peer_acknowledging_a_message_never_sent_ends_the_session()
    {
        using var pads = new TestPads(padBytes: 64 * 1024);
        await using var setup = new Setup(pads, ChannelEnd.Alice, connector: true);
        var (serving, peer, _, _) = await ConnectorHandshakeAsync(setup, Guid.NewGuid(), 0);
        await SendAsync(setup.Session, 1, Token);
        AssertData(await peer.ReadAsync(Token), 1);
        await peer.SendAsync(FrameType.Ack, 0, 5);
        await Ended(serving);
        Assert.Equal(ChannelCloseReason.SessionLost, setup.Session.CloseReason);
        var e = await Assert.ThrowsAsync<ClassicalChannelClosedException>(async () => await setup.Session.ReceiveAsync(Token));
        Assert.Contains("never sent", e.Message);
    }
}
