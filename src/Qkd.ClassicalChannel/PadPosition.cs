using System.Buffers.Binary;

namespace Qkd.ClassicalChannel;

/// <summary>
/// Where one end's pad stands on one channel, as it tells the peer in Hello, Welcome, Resume and Refused (the payload,
/// under the tag): the next index of its own lane, the highest index of the peer's lane it has accepted, how many
/// replenishments it has applied (with the last block IDs of them) and which blocks it holds pending. From it the peer
/// sees whether either end's state is older than it should be (a pad index the peer already accepted, a replenishment
/// applied at one end that the other no longer holds), and both apply the same replenishments in the same order.
/// </summary>
/// <remarks>
/// Layout (little-endian): version 1 (u8), flags (u8, bit 0: has completed a handshake before), next send index (i64),
/// peer lane accepted (i64, -1: none), applied count (i64), applied window count (u16), pending count (u16), the window's
/// block IDs (i64, oldest first: the last of them is the applied count's last), the pending block IDs (i64, ascending).
/// </remarks>
public sealed record PadPosition(bool EverEstablished, long NextSend, long PeerLaneAccepted, long AppliedCount,
    IReadOnlyList<long> AppliedWindow, IReadOnlyList<long> Pending)
{
    public const byte Version = 1;
    public const int MaxWindow = 64;
    public const int MaxPending = 1024;
    private const int Fixed = 1 + 1 + 8 + 8 + 8 + 2 + 2;

    /// <summary>The largest encoded position (well inside a handshake frame's payload bound).</summary>
    public const int MaxBytes = Fixed + 8 * (MaxWindow + MaxPending);

    public int EncodedBytes => Fixed + 8 * (AppliedWindow.Count + Pending.Count);

    public byte[] ToBytes()
    {
        if (AppliedWindow.Count > MaxWindow || Pending.Count > MaxPending)
            throw new InvalidOperationException($"A pad position carries at most {MaxWindow} applied and {MaxPending} pending blocks.");
        var bytes = new byte[EncodedBytes];
        bytes[0] = Version;
        bytes[1] = EverEstablished ? (byte)1 : (byte)0;
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(2), NextSend);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(10), PeerLaneAccepted);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(18), AppliedCount);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(26), (ushort)AppliedWindow.Count);
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(28), (ushort)Pending.Count);
        int at = Fixed;
        foreach (long id in AppliedWindow) { BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(at), id); at += 8; }
        foreach (long id in Pending) { BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(at), id); at += 8; }
        return bytes;
    }

    /// <summary>Parses a position; null when the bytes are not one (wrong version, impossible counts or values).</summary>
    public static PadPosition? TryRead(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < Fixed || bytes[0] != Version || bytes[1] > 1) return null;
        long next = BinaryPrimitives.ReadInt64LittleEndian(bytes[2..]);
        long accepted = BinaryPrimitives.ReadInt64LittleEndian(bytes[10..]);
        long applied = BinaryPrimitives.ReadInt64LittleEndian(bytes[18..]);
        int window = BinaryPrimitives.ReadUInt16LittleEndian(bytes[26..]);
        int pending = BinaryPrimitives.ReadUInt16LittleEndian(bytes[28..]);
        if (next < 0 || accepted < -1 || applied < 0 || window > MaxWindow || window > applied || pending > MaxPending) return null;
        if (bytes.Length != Fixed + 8 * (window + pending)) return null;
        var w = new long[window];
        var p = new long[pending];
        int at = Fixed;
        for (int i = 0; i < window; i++, at += 8) w[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes[at..]);
        for (int i = 0; i < pending; i++, at += 8) p[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes[at..]);
        return new PadPosition(bytes[1] == 1, next, accepted, applied, w, p);
    }

    public bool Equals(PadPosition? other) => other is not null && EverEstablished == other.EverEstablished && NextSend == other.NextSend &&
        PeerLaneAccepted == other.PeerLaneAccepted && AppliedCount == other.AppliedCount &&
        AppliedWindow.SequenceEqual(other.AppliedWindow) && Pending.SequenceEqual(other.Pending);

    public override int GetHashCode() => HashCode.Combine(EverEstablished, NextSend, PeerLaneAccepted, AppliedCount, AppliedWindow.Count, Pending.Count);
}
