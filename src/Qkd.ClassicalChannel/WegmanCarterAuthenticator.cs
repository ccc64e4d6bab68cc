using System.Security.Cryptography;

namespace Qkd.ClassicalChannel;

/// <summary>
/// Authentication layer of the TCP classical channel: Wegman-Carter tags on every frame body. Tag =
/// <see cref="Gf128PolynomialHash"/>_k(header || payload) XOR a one-time pad of 128 bits from this channel's lane of
/// the <see cref="AuthenticationPadStore"/>, k the hash key of the epoch the header names. The sender names its channel,
/// pad index and key epoch in the header, which the tag covers, so the receiver never has to predict them and a
/// rejected frame cannot put the two ends out of step.
/// <para>
/// Sending spends this end's next index on the channel's lane (durably reserved by the store before use). Receiving
/// spends nothing: it reads the peer's lane at the named index, and a frame is authentic only if it is of this channel,
/// its tag verifies and its index is above every index of that lane accepted so far (durable across channels and
/// restarts). Refusal notices use the pre-shared key and the notice reserve instead. Rejections are counted per reason
/// in <see cref="ChannelSecurityCounters"/>.
/// </para>
/// </summary>
internal sealed class WegmanCarterAuthenticator
{
    private readonly AuthenticationPadStore _pad;
    private readonly ChannelKind _channel;
    private readonly ChannelEnd _local;
    private readonly ChannelEnd _peer;
    private readonly ChannelSecurityCounters _security;

    public WegmanCarterAuthenticator(AuthenticationPadStore pad, ChannelKind channel, ChannelSecurityCounters security)
    {
        _pad = pad;
        _channel = channel;
        _local = pad.LocalEnd;
        _peer = _local == ChannelEnd.Alice ? ChannelEnd.Bob : ChannelEnd.Alice;
        _security = security;
    }

    public AuthenticationPadStore Pad => _pad;

    public ChannelKind Channel => _channel;

    /// <summary>
    /// Writes <paramref name="header"/> with this end's next pad index and key epoch, then <paramref name="payload"/>,
    /// then the tag into <paramref name="body"/> (exactly <see cref="FrameHeader.Overhead"/> + payload bytes). Sender,
    /// channel and payload length are set here too: they decide which lane and which bytes the tag covers. Callers must
    /// put sealed frames on the wire in the order they sealed them: a frame overtaken by a later-sealed one would be
    /// refused as a replay.
    /// </summary>
    /// <exception cref="AuthenticationPadExhaustedException">This lane has no unused pad left; nothing was written.</exception>
    /// <exception cref="AuthenticationPadStaleException">This end's pad state was found older than the peer's.</exception>
    public void Seal(FrameHeader header, ReadOnlySpan<byte> payload, Span<byte> body)
    {
        CheckBody(payload, body);
        var (index, epoch) = _pad.TakeSendIndex(_channel);
        WriteAndTag(header with { Sender = _local, PayloadLength = payload.Length, PadIndex = index, Channel = _channel, KeyEpoch = epoch },
            payload, body, notice: false);
    }

    /// <summary>Seals a <see cref="FrameType.Refused"/> notice with the pre-shared key and this end's notice reserve.</summary>
    public void SealNotice(FrameHeader header, ReadOnlySpan<byte> payload, Span<byte> body)
    {
        CheckBody(payload, body);
        long index = _pad.TakeNoticeIndex();
        WriteAndTag(header with { Type = FrameType.Refused, Sender = _local, PayloadLength = payload.Length, PadIndex = index, Channel = _channel, KeyEpoch = 0 },
            payload, body, notice: true);
    }

    /// <summary>
    /// Checks a received frame body: parses, verifies the tag with the sender's lane, and refuses other channels' frames
    /// and pad indices already accepted. Changes nothing: the frame counts as accepted only once the session calls
    /// <see cref="Accept"/>.
    /// </summary>
    public FrameVerification Verify(byte[] body)
    {
        if (FrameHeader.TryRead(body) is not { } h)
            return Reject(FrameRejection.Malformed, FrameVerification.Damaged);
        int payloadBytes = body.Length - FrameHeader.Overhead;
        if (h.PayloadLength != payloadBytes)
            return Reject(h.PayloadLength > payloadBytes ? FrameRejection.Truncated : FrameRejection.Malformed, FrameVerification.Damaged);
        _security.CountTagChecked();
        var payload = body.AsMemory(FrameHeader.Size, h.PayloadLength);
        if (h.Sender == _local)
        {
            // Our own direction coming back: a reflection if it carries our genuine tag, else a forgery. Either way it
            // is no frame of the peer's (a genuine peer frame with its sender bit flipped lands here too; the gap it
            // leaves shows as a sequence gap on the peer's next frame).
            bool ours = h.Type == FrameType.Refused ? NoticeTagValid(body, h, _local) : TagValid(body, h, h.Channel, _local, out _);
            return Reject(ours ? FrameRejection.Reflected : FrameRejection.Forged, FrameVerification.Foreign);
        }
        if (h.Type == FrameType.Refused)
        {
            if (h.Channel != _channel) return Reject(FrameRejection.CrossChannel, FrameVerification.Foreign);
            return NoticeTagValid(body, h, _peer)
                ? new FrameVerification(FrameVerdict.Notice, h, payload, HeaderKnown: true)
                : Reject(FrameRejection.Forged, new FrameVerification(FrameVerdict.Damaged, h, default, HeaderKnown: true));
        }
        if (h.Channel != _channel)
        {
            // The node's other channel shares the pre-shared secret but not the lane: a copy of one of its frames.
            return Reject(TagValid(body, h, h.Channel, _peer, out _) ? FrameRejection.CrossChannel : FrameRejection.Forged, FrameVerification.Foreign);
        }
        if (!TagValid(body, h, _channel, _peer, out bool beyond))
            return Reject(FrameRejection.Forged, new FrameVerification(FrameVerdict.Damaged, h, default, HeaderKnown: true, BeyondMaterial: beyond));
        if (h.PadIndex <= _pad.LastAccepted(_channel))
            return Reject(FrameRejection.Replayed, new FrameVerification(FrameVerdict.Replayed, h, payload, HeaderKnown: true));
        return new FrameVerification(FrameVerdict.Authentic, h, payload, HeaderKnown: true);
    }

    /// <summary>
    /// Takes an authentic frame's pad index as its lane's last accepted (durable). False (counted as a replay) if it is
    /// not above it: another connection's copy of the same frame got there first.
    /// </summary>
    public bool Accept(in FrameHeader header)
    {
        if (_pad.TryAccept(_channel, header.PadIndex)) return true;
        _security.CountRejected(FrameRejection.Replayed);
        return false;
    }

    private static void CheckBody(ReadOnlySpan<byte> payload, Span<byte> body)
    {
        if (body.Length != FrameHeader.Overhead + payload.Length)
            throw new ArgumentException($"A frame body with a {payload.Length}-byte payload has {FrameHeader.Overhead + payload.Length} bytes, not {body.Length}.", nameof(body));
    }

    private void WriteAndTag(FrameHeader header, ReadOnlySpan<byte> payload, Span<byte> body, bool notice)
    {
        header.Write(body);
        payload.CopyTo(body[FrameHeader.Size..]);
        Span<byte> pad = stackalloc byte[Gf128PolynomialHash.TagBytes];
        Span<byte> key = stackalloc byte[AuthenticationPadStore.HashKeyBytes];
        try
        {
            bool read = notice
                ? _pad.TryReadNoticePad(_local, header.PadIndex, pad) && _pad.TryCopyHashKey(0, key)
                : _pad.TryReadPad(_channel, _local, header.PadIndex, header.KeyEpoch, pad) && _pad.TryCopyHashKey(header.KeyEpoch, key);
            if (!read) throw new InvalidOperationException($"Pad index {header.PadIndex} (epoch {header.KeyEpoch}) was handed out but cannot be read.");
            int authenticated = FrameHeader.Size + payload.Length;
            Tag(key, body[..authenticated], (header.Flags & FrameHeader.CoversSecretFlag) != 0, pad, body.Slice(authenticated, Gf128PolynomialHash.TagBytes));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pad);
            CryptographicOperations.ZeroMemory(key);
        }
        _security.CountTagCreated();
    }

    /// <summary>Tag over the frame, and over the secret's digest too when the frame says so (first contact).</summary>
    private void Tag(ReadOnlySpan<byte> key, ReadOnlySpan<byte> authenticated, bool coversSecret, ReadOnlySpan<byte> pad, Span<byte> tag)
    {
        if (!coversSecret)
        {
            Gf128PolynomialHash.ComputeTag(key, authenticated, pad, tag);
            return;
        }
        var message = new byte[authenticated.Length + 16];
        try
        {
            authenticated.CopyTo(message);
            _pad.CopySecretDigest(message.AsSpan(authenticated.Length));
            Gf128PolynomialHash.ComputeTag(key, message, pad, tag);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(message.AsSpan(authenticated.Length));
        }
    }

    private FrameVerification Reject(FrameRejection reason, FrameVerification verdict)
    {
        _security.CountRejected(reason);
        return verdict;
    }

    private bool TagValid(byte[] body, FrameHeader h, ChannelKind channel, ChannelEnd sender, out bool beyond)
    {
        Span<byte> pad = stackalloc byte[Gf128PolynomialHash.TagBytes];
        Span<byte> key = stackalloc byte[AuthenticationPadStore.HashKeyBytes];
        Span<byte> expected = stackalloc byte[Gf128PolynomialHash.TagBytes];
        try
        {
            beyond = !_pad.TryReadPad(channel, sender, h.PadIndex, h.KeyEpoch, pad) || !_pad.TryCopyHashKey(h.KeyEpoch, key);
            if (beyond) return false;
            int authenticated = FrameHeader.Size + h.PayloadLength;
            Tag(key, body.AsSpan(0, authenticated), (h.Flags & FrameHeader.CoversSecretFlag) != 0, pad, expected);
            return CryptographicOperations.FixedTimeEquals(expected, body.AsSpan(authenticated, Gf128PolynomialHash.TagBytes));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pad);
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(expected);
        }
    }

    private bool NoticeTagValid(byte[] body, FrameHeader h, ChannelEnd sender)
    {
        Span<byte> pad = stackalloc byte[Gf128PolynomialHash.TagBytes];
        Span<byte> key = stackalloc byte[AuthenticationPadStore.HashKeyBytes];
        Span<byte> expected = stackalloc byte[Gf128PolynomialHash.TagBytes];
        try
        {
            if (!_pad.TryReadNoticePad(sender, h.PadIndex, pad) || !_pad.TryCopyHashKey(0, key)) return false;
            int authenticated = FrameHeader.Size + h.PayloadLength;
            Tag(key, body.AsSpan(0, authenticated), (h.Flags & FrameHeader.CoversSecretFlag) != 0, pad, expected);
            return CryptographicOperations.FixedTimeEquals(expected, body.AsSpan(authenticated, Gf128PolynomialHash.TagBytes));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pad);
            CryptographicOperations.ZeroMemory(key);
            CryptographicOperations.ZeroMemory(expected);
        }
    }
}
