using System.Security.Cryptography;
using Microsoft.Extensions.Logging;

namespace Qkd.ClassicalChannel;

/// <summary>
/// Authentication layer of the TCP classical channel: Wegman-Carter tags on every frame body. Tag =
/// <see cref="Gf128PolynomialHash"/>(header || payload) XOR a one-time pad of 128 bits from the
/// <see cref="AuthenticationPadStore"/>. The sender names its pad index in the header, which the tag covers, so the
/// receiver never has to predict indices and a rejected frame cannot put the two ends out of step.
/// <para>
/// Sending spends this end's next pad index (durably reserved by the store before use). Receiving spends nothing: it
/// reads the peer's pad at the named index, and a frame is authentic only if its tag verifies and its index is above
/// every index accepted so far (pad indices only rise per sender, so an old frame shown again is a replay, whatever
/// connection it arrives on). Rejections are counted per reason in <see cref="ChannelSecurityCounters"/>.
/// </para>
/// </summary>
internal sealed class WegmanCarterAuthenticator : IDisposable
{
    private readonly AuthenticationPadStore _pad;
    private readonly byte[] _hashKey;
    private readonly ChannelEnd _local;
    private readonly ChannelEnd _peer;
    private readonly TimeSpan _padMaterialWait;
    private readonly ChannelSecurityCounters _security;
    private readonly ILogger _logger;
    private readonly object _acceptGate = new();
    private long _lastAccepted = -1;

    /// <param name="padMaterialWait">How long a frame whose pad index is beyond this end's material waits for the node's replenishment.</param>
    public WegmanCarterAuthenticator(AuthenticationPadStore pad, TimeSpan padMaterialWait, ChannelSecurityCounters security, ILogger logger)
    {
        _pad = pad;
        _local = pad.LocalEnd;
        _peer = _local == ChannelEnd.Alice ? ChannelEnd.Bob : ChannelEnd.Alice;
        _padMaterialWait = padMaterialWait;
        _security = security;
        _logger = logger;
        _hashKey = pad.CopyHashKey();
    }

    /// <summary>
    /// Writes <paramref name="header"/> with this end's next pad index, then <paramref name="payload"/>, then the tag
    /// into <paramref name="body"/> (exactly <see cref="FrameHeader.Overhead"/> + payload bytes). The sender and
    /// payload length fields are set here too: they decide which pad half and which bytes the tag covers. Callers must
    /// put sealed frames on the wire in the order they sealed them: a frame overtaken by a later-sealed one would be
    /// refused as a replay.
    /// </summary>
    /// <exception cref="AuthenticationPadExhaustedException">This end has no unused pad left; nothing was written.</exception>
    public void Seal(FrameHeader header, ReadOnlySpan<byte> payload, Span<byte> body)
    {
        if (body.Length != FrameHeader.Overhead + payload.Length)
            throw new ArgumentException($"A frame body with a {payload.Length}-byte payload has {FrameHeader.Overhead + payload.Length} bytes, not {body.Length}.", nameof(body));
        long index = _pad.TakeSendIndex();
        (header with { Sender = _local, PayloadLength = payload.Length, PadIndex = index }).Write(body);
        payload.CopyTo(body[FrameHeader.Size..]);
        Span<byte> pad = stackalloc byte[Gf128PolynomialHash.TagBytes];
        try
        {
            if (!_pad.TryReadPad(_local, index, pad))
                throw new InvalidOperationException($"Pad index {index} was handed out but cannot be read.");
            int authenticated = FrameHeader.Size + payload.Length;
            Gf128PolynomialHash.ComputeTag(_hashKey, body[..authenticated], pad, body.Slice(authenticated, Gf128PolynomialHash.TagBytes));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pad);
        }
        _security.CountTagCreated();
    }

    /// <summary>
    /// Checks a received frame body: parses, verifies the tag with the sender's pad, and refuses pad indices already
    /// accepted. Changes nothing: the frame counts as accepted only once the session calls <see cref="Accept"/>.
    /// </summary>
    public async ValueTask<FrameVerification> VerifyAsync(byte[] body, CancellationToken cancellationToken)
    {
        if (FrameHeader.TryRead(body) is not { } h)
            return Reject(FrameRejection.Malformed, FrameVerification.Damaged);
        int payloadBytes = body.Length - FrameHeader.Overhead;
        if (h.PayloadLength != payloadBytes)
            return Reject(h.PayloadLength > payloadBytes ? FrameRejection.Truncated : FrameRejection.Malformed, FrameVerification.Damaged);
        _security.CountTagChecked();
        if (h.Sender == _local)
        {
            // Our own direction coming back: a reflection if it carries our genuine tag, else a forgery. Either way it
            // is no frame of the peer's (a genuine peer frame with its sender bit flipped lands here too; the gap it
            // leaves shows as a sequence gap on the peer's next frame).
            return Reject(TagValid(body, h, _local) ? FrameRejection.Reflected : FrameRejection.Forged, FrameVerification.Foreign);
        }
        if (!await PadAvailableAsync(h.PadIndex, cancellationToken).ConfigureAwait(false) || !TagValid(body, h, _peer))
        {
            _logger.LogWarning("Classical channel ({End}): rejected a forged {Type} frame (pad index {Index})", _local, h.Type, h.PadIndex);
            return Reject(FrameRejection.Forged, FrameVerification.Damaged);
        }
        if (h.PadIndex <= Volatile.Read(ref _lastAccepted))
            return Reject(FrameRejection.Replayed, FrameVerification.Foreign);
        return new FrameVerification(FrameVerdict.Authentic, h, body.AsMemory(FrameHeader.Size, h.PayloadLength));
    }

    /// <summary>
    /// Takes an authentic frame's pad index as the last accepted. False (counted as a replay) if it is not above it:
    /// another connection's copy of the same frame got there first.
    /// </summary>
    public bool Accept(in FrameHeader header)
    {
        lock (_acceptGate)
        {
            if (header.PadIndex <= _lastAccepted)
            {
                _security.CountRejected(FrameRejection.Replayed);
                return false;
            }
            Volatile.Write(ref _lastAccepted, header.PadIndex);
            return true;
        }
    }

    /// <summary>Zeroises the hash key.</summary>
    public void Dispose() => CryptographicOperations.ZeroMemory(_hashKey);

    private FrameVerification Reject(FrameRejection reason, FrameVerification verdict)
    {
        _security.CountRejected(reason);
        return verdict;
    }

    /// <summary>
    /// The peer may spend pad from a replenishment this end has not applied yet (the two nodes replenish at about the
    /// same time, not at the same instant): wait for it, within limits.
    /// </summary>
    private async ValueTask<bool> PadAvailableAsync(long index, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + _padMaterialWait;
        while (index >= _pad.ChunksAvailable(_peer))
        {
            var left = deadline - DateTime.UtcNow;
            if (left <= TimeSpan.Zero) return false;
            await _pad.MaterialGrewAsync(left, cancellationToken).ConfigureAwait(false);
            cancellationToken.ThrowIfCancellationRequested();
        }
        return true;
    }

    private bool TagValid(byte[] body, FrameHeader h, ChannelEnd sender)
    {
        Span<byte> pad = stackalloc byte[Gf128PolynomialHash.TagBytes];
        Span<byte> expected = stackalloc byte[Gf128PolynomialHash.TagBytes];
        try
        {
            if (!_pad.TryReadPad(sender, h.PadIndex, pad)) return false;
            int authenticated = FrameHeader.Size + h.PayloadLength;
            Gf128PolynomialHash.ComputeTag(_hashKey, body.AsSpan(0, authenticated), pad, expected);
            return CryptographicOperations.FixedTimeEquals(expected, body.AsSpan(authenticated, Gf128PolynomialHash.TagBytes));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pad);
            CryptographicOperations.ZeroMemory(expected);
        }
    }
}
