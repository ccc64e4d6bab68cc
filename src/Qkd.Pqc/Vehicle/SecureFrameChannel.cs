using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Qkd.Pqc.Vehicle;

/// <summary>
/// The vehicle channel after the handshake: every message is one AES-256-GCM record,
/// <c>u64 sequence ‖ ciphertext ‖ 16-byte tag</c>, inside a length-prefixed frame. Each direction has its own key and
/// its own sequence, starting at 0 and going up by one per record; the nonce is <c>4-byte direction ‖ u64 sequence</c>
/// and the additional data <c>"qkd-vehicle/v1" ‖ direction ‖ sequence</c>, so a record cannot be replayed, reordered,
/// reflected back to its sender or moved to another session. The first record that is replayed (a sequence already
/// seen), out of order or fails authentication is counted and ends the session: a stream that lost integrity is not
/// read further. Plaintext buffers are zeroised after use.
/// </summary>
internal sealed class SecureFrameChannel : IDisposable
{
    public const uint VehicleToGateway = 1;
    public const uint GatewayToVehicle = 2;
    private const int TagBytes = 16;
    private static readonly byte[] Label = "qkd-vehicle/v1"u8.ToArray();

    private readonly Stream _stream;
    private readonly AesGcm _send, _receive;
    private readonly uint _sendDirection, _receiveDirection;
    private readonly VehicleChannelCounters _counters;
    private ulong _sendSequence, _receiveSequence;

    public SecureFrameChannel(Stream stream, ReadOnlySpan<byte> sendKey, ReadOnlySpan<byte> receiveKey, bool isGateway, VehicleChannelCounters counters)
    {
        _stream = stream;
        _send = new AesGcm(sendKey, TagBytes);
        _receive = new AesGcm(receiveKey, TagBytes);
        _sendDirection = isGateway ? GatewayToVehicle : VehicleToGateway;
        _receiveDirection = isGateway ? VehicleToGateway : GatewayToVehicle;
        _counters = counters;
    }

    /// <summary>Encrypts and sends one message (the plaintext is left to the caller to zeroise).</summary>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> plaintext, CancellationToken cancellationToken)
    {
        byte[] record = Seal(plaintext.Span);
        await FrameIo.WriteAsync(_stream, record, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Seals one record with the next sequence number (exposed for tests that replay or alter records).</summary>
    public byte[] Seal(ReadOnlySpan<byte> plaintext)
    {
        ulong sequence = _sendSequence++;
        byte[] record = new byte[8 + plaintext.Length + TagBytes];
        BinaryPrimitives.WriteUInt64BigEndian(record, sequence);
        Span<byte> nonce = stackalloc byte[12];
        Span<byte> aad = stackalloc byte[Label.Length + 12];
        Bind(_sendDirection, sequence, nonce, aad);
        _send.Encrypt(nonce, plaintext, record.AsSpan(8, plaintext.Length), record.AsSpan(8 + plaintext.Length), aad);
        return record;
    }

    /// <summary>The next message, decrypted (the caller zeroises it), or null when the peer closed the connection.</summary>
    /// <exception cref="VehicleProtocolException">A replayed, reordered or forged record (counted); the session must end.</exception>
    public async ValueTask<byte[]?> ReceiveAsync(CancellationToken cancellationToken)
    {
        byte[]? record = await FrameIo.ReadAsync(_stream, cancellationToken).ConfigureAwait(false);
        return record is null ? null : Open(record);
    }

    public byte[] Open(byte[] record)
    {
        if (record.Length < 8 + TagBytes)
        {
            _counters.CountForged();
            throw new VehicleProtocolException($"a record of {record.Length} bytes is shorter than sequence and tag");
        }
        ulong sequence = BinaryPrimitives.ReadUInt64BigEndian(record);
        if (sequence < _receiveSequence)
        {
            _counters.CountReplayed();
            throw new VehicleProtocolException($"record {sequence} replayed (expected {_receiveSequence})");
        }
        if (sequence > _receiveSequence)
        {
            _counters.CountForged();
            throw new VehicleProtocolException($"record {sequence} out of order (expected {_receiveSequence})");
        }
        int length = record.Length - 8 - TagBytes;
        byte[] plaintext = new byte[length];
        Span<byte> nonce = stackalloc byte[12];
        Span<byte> aad = stackalloc byte[Label.Length + 12];
        Bind(_receiveDirection, sequence, nonce, aad);
        try
        {
            _receive.Decrypt(nonce, record.AsSpan(8, length), record.AsSpan(8 + length), plaintext, aad);
        }
        catch (AuthenticationTagMismatchException)
        {
            _counters.CountForged();
            throw new VehicleProtocolException($"record {sequence} failed authentication (forged or altered)");
        }
        _receiveSequence++;
        return plaintext;
    }

    private static void Bind(uint direction, ulong sequence, Span<byte> nonce, Span<byte> aad)
    {
        BinaryPrimitives.WriteUInt32BigEndian(nonce, direction);
        BinaryPrimitives.WriteUInt64BigEndian(nonce[4..], sequence);
        Label.CopyTo(aad);
        BinaryPrimitives.WriteUInt32BigEndian(aad[Label.Length..], direction);
        BinaryPrimitives.WriteUInt64BigEndian(aad[(Label.Length + 4)..], sequence);
    }

    public void Dispose()
    {
        _send.Dispose();
        _receive.Dispose();
    }
}
