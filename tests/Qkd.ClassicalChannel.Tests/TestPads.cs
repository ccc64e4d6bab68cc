using System.Net;
using System.Security.Cryptography;
using Qkd.ClassicalChannel;

namespace Qkd.ClassicalChannel.Tests;

/// <summary>A pre-shared secret file (0600) and one state directory per end, in a temporary directory.</summary>
public sealed class TestPads : IDisposable
{
    public TestPads(int padBytes = 1 << 20)
    {
        Root = Path.Combine(Path.GetTempPath(), "qkd-chan-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
        SecretPath = Path.Combine(Root, "preshared.key");
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite };
        using (var f = new FileStream(SecretPath, options))
            f.Write(RandomNumberGenerator.GetBytes(AuthenticationPadStore.HashKeyBytes + padBytes));
    }

    public string Root { get; }
    public string SecretPath { get; }

    /// <summary>
    /// Pad bytes for a small secret whose session lanes hold exactly <paramref name="sessionTags"/> tags per direction
    /// (a multiple of 3; one notice chunk per end, as for any secret under 8 KiB).
    /// </summary>
    public static int PadBytesForSessionTags(int sessionTags) => 2 * AuthenticationPadStore.ChunkBytes + sessionTags / 3 * AuthenticationPadStore.GroupBytes;

    /// <summary>A replenishment of <paramref name="groups"/> pad groups (plus its hash key) from fresh random bits.</summary>
    public static byte[] Replenishment(int groups) => RandomNumberGenerator.GetBytes(AuthenticationPadStore.HashKeyBytes + groups * AuthenticationPadStore.GroupBytes);

    /// <summary>
    /// Both ends hold a block's replenishment and exchange their positions as a handshake would, so both apply it.
    /// </summary>
    public static void ReplenishBoth(AuthenticationPadStore alice, AuthenticationPadStore bob, long blockId, byte[] replenishment)
    {
        Assert.True(bob.AddPending(blockId, replenishment));
        Assert.True(alice.AddPending(blockId, replenishment));
        // Hello (Alice's position) -> Bob applies; Welcome (Bob's) -> Alice applies; Resume -> Bob knows she has.
        Assert.Equal(PadAgreementVerdict.Agreed, bob.Reconcile(ChannelKind.Session, alice.Position(ChannelKind.Session)).Verdict);
        Assert.Equal(PadAgreementVerdict.Agreed, alice.Reconcile(ChannelKind.Session, bob.Position(ChannelKind.Session)).Verdict);
        Assert.Equal(PadAgreementVerdict.Agreed, bob.Reconcile(ChannelKind.Session, alice.Position(ChannelKind.Session)).Verdict);
    }

    public string StateOf(ChannelEnd end, string generation = "") => Path.Combine(Root, $"state-{end}{generation}");

    public AuthenticationPadStore Open(ChannelEnd end, string generation = "") => AuthenticationPadStore.Open(SecretPath, StateOf(end, generation), end);

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
    }

    public static TcpClassicalChannelOptions Listener(ChannelEnd end = ChannelEnd.Bob) => new()
    {
        LocalEnd = end,
        ListenEndpoint = new IPEndPoint(IPAddress.Loopback, 0),
        InitialReconnectDelay = TimeSpan.FromMilliseconds(10),
        MaxReconnectDelay = TimeSpan.FromMilliseconds(200),
        AckDelay = TimeSpan.FromMilliseconds(20),
        CloseLinger = TimeSpan.FromSeconds(2),
    };

    public static TcpClassicalChannelOptions Connector(EndPoint target, ChannelEnd end = ChannelEnd.Alice) => Listener(end) with
    {
        ListenEndpoint = null,
        ConnectEndpoint = target,
    };

    /// <summary>Alice connects to Bob directly (or through <paramref name="via"/>).</summary>
    public (TcpClassicalChannel Alice, TcpClassicalChannel Bob) Pair(AuthenticationPadStore alicePad, AuthenticationPadStore bobPad, Func<IPEndPoint, EndPoint>? via = null)
    {
        var bob = new TcpClassicalChannel(Listener(), bobPad);
        EndPoint target = via is null ? bob.LocalEndpoint! : via(bob.LocalEndpoint!);
        var alice = new TcpClassicalChannel(Connector(target), alicePad);
        return (alice, bob);
    }
}
