namespace Qkd.ClassicalChannel;

/// <summary>
/// Security and resilience counters of one end of the TCP classical channel (for the report and metrics). Rejected
/// frames are counted per reason; none of them ever reaches the distiller.
/// </summary>
public sealed class ChannelSecurityCounters
{
    private readonly AuthenticationPadStore _pad;
    private readonly long[] _rejected = new long[Enum.GetValues<FrameRejection>().Length];
    private long _tagsCreated, _tagsChecked, _duplicates, _reconnects, _resent, _wireSent, _wireReceived, _mismatches, _notices, _refusedConnections;

    internal ChannelSecurityCounters(AuthenticationPadStore pad) => _pad = pad;

    /// <summary>Tags made for frames sent (each spends 128 pad bits).</summary>
    public long TagsCreated => Interlocked.Read(ref _tagsCreated);
    /// <summary>Tags of received frames checked (valid or not).</summary>
    public long TagsChecked => Interlocked.Read(ref _tagsChecked);
    public long Forgeries => Rejected(FrameRejection.Forged);
    public long Replays => Rejected(FrameRejection.Replayed);
    public long Reorders => Rejected(FrameRejection.Reordered);
    public long Truncations => Rejected(FrameRejection.Truncated);
    public long Reflections => Rejected(FrameRejection.Reflected);
    public long Malformed => Rejected(FrameRejection.Malformed);
    /// <summary>Genuine frames of the node's other channel shown to this one (a cross-channel replay).</summary>
    public long CrossChannel => Rejected(FrameRejection.CrossChannel);
    /// <summary>Handshakes of a peer whose pad state is older than this end's (refused and told).</summary>
    public long StalePeers => Rejected(FrameRejection.StalePeer);
    /// <summary>First-contact handshakes that showed the two pre-shared secrets differ.</summary>
    public long SecretMismatches => Interlocked.Read(ref _mismatches);
    /// <summary>Refusal notices sent (each spends a chunk of the pre-shared notice reserve).</summary>
    public long NoticesSent => Interlocked.Read(ref _notices);
    /// <summary>Connections closed at once because too many were waiting to authenticate.</summary>
    public long ConnectionsRefused => Interlocked.Read(ref _refusedConnections);
    /// <summary>Genuine resent messages the receiver already had (dropped by sequence number; not an attack).</summary>
    public long DuplicatesDropped => Interlocked.Read(ref _duplicates);
    /// <summary>Connections re-established after the first.</summary>
    public long Reconnects => Interlocked.Read(ref _reconnects);
    /// <summary>Messages sent again after a reconnect because the peer had not received them.</summary>
    public long ResentMessages => Interlocked.Read(ref _resent);
    public long WireBytesSent => Interlocked.Read(ref _wireSent);
    public long WireBytesReceived => Interlocked.Read(ref _wireReceived);

    /// <summary>Pad accounting of this end: bits used for tags, replenished, remaining.</summary>
    public AuthenticationPadAccount Pad => _pad.Account;
    public long PadBitsUsed => Pad.ConsumedBits;
    public long PadBitsReplenished => Pad.ReplenishedBits;
    public long PadBitsRemaining => Pad.RemainingBits;

    public long Rejected(FrameRejection reason) => Interlocked.Read(ref _rejected[(int)reason]);

    /// <summary>All rejections, whatever the reason.</summary>
    public long RejectedTotal
    {
        get
        {
            long total = 0;
            for (int i = 0; i < _rejected.Length; i++) total += Interlocked.Read(ref _rejected[i]);
            return total;
        }
    }

    internal void CountRejected(FrameRejection reason) => Interlocked.Increment(ref _rejected[(int)reason]);
    internal void CountTagCreated() => Interlocked.Increment(ref _tagsCreated);
    internal void CountTagChecked() => Interlocked.Increment(ref _tagsChecked);
    internal void CountDuplicate() => Interlocked.Increment(ref _duplicates);
    internal void CountReconnect() => Interlocked.Increment(ref _reconnects);
    internal void CountResent() => Interlocked.Increment(ref _resent);
    internal void CountSecretMismatch() => Interlocked.Increment(ref _mismatches);
    internal void CountNoticeSent() => Interlocked.Increment(ref _notices);
    internal void CountConnectionRefused() => Interlocked.Increment(ref _refusedConnections);
    internal void CountWireSent(int bytes) => Interlocked.Add(ref _wireSent, bytes);
    internal void CountWireReceived(int bytes) => Interlocked.Add(ref _wireReceived, bytes);

    public override string ToString() =>
        $"tags created {TagsCreated}, checked {TagsChecked}; rejected: forged {Forgeries}, replayed {Replays}, reordered {Reorders}, " +
        $"truncated {Truncations}, reflected {Reflections}, malformed {Malformed}, cross-channel {CrossChannel}, stale peer {StalePeers}; " +
        $"secret mismatches {SecretMismatches}, notices sent {NoticesSent}, connections refused {ConnectionsRefused}; duplicates {DuplicatesDropped}, reconnects {Reconnects}, resent {ResentMessages}";
}
