using System.Buffers.Binary;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Qkd.Pqc.Algorithms;

namespace Qkd.Pqc.Vehicle;

/// <summary>
/// The vehicle's key module: connects to its gateway, proves itself with its enrolled ML-DSA-65 key, checks the
/// gateway's signature against the key pinned at enrolment, agrees the session keys (ML-KEM-768 with a fresh key pair
/// per session, combined with its seed), stores the next seed the gateway hands it (its credentials file is rewritten
/// atomically before the gateway is told), and fetches keys. Keys returned are the caller's to zeroise.
/// </summary>
public sealed class VehicleKeyModule : IAsyncDisposable
{
    private readonly Stream _stream;
    private readonly IDisposable? _connection;
    private readonly SecureFrameChannel _channel;

    private VehicleKeyModule(Stream stream, IDisposable? connection, SecureFrameChannel channel, VehicleChannelCounters counters, string vehicleId)
    {
        _stream = stream;
        _connection = connection;
        _channel = channel;
        Counters = counters;
        VehicleId = vehicleId;
    }

    public string VehicleId { get; }

    public VehicleChannelCounters Counters { get; }

    /// <summary>Whether this session handed the vehicle a new seed (a QKD key) for the next one.</summary>
    public bool SeedRenewed { get; private set; }

    /// <summary>Connects over TCP to <paramref name="host"/>:<paramref name="port"/> with the credentials in <paramref name="credentialsPath"/>.</summary>
    public static async Task<VehicleKeyModule> ConnectAsync(string credentialsPath, string host, int port, CancellationToken cancellationToken)
    {
        var client = new TcpClient { NoDelay = true };
        try
        {
            await client.ConnectAsync(host, port, cancellationToken).ConfigureAwait(false);
            return await OpenAsync(credentialsPath, client.GetStream(), client, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Runs the handshake on a connected stream (owned by the module from now on).</summary>
    public static async Task<VehicleKeyModule> OpenAsync(string credentialsPath, Stream stream, IDisposable? connection, CancellationToken cancellationToken,
        IKeyEncapsulation? kem = null, ISignatureScheme? dsa = null)
    {
        kem ??= PostQuantum.MlKem768;
        dsa ??= PostQuantum.MlDsa65;
        var credentials = VehicleEnrolment.Load(credentialsPath);
        byte[] signingSeed = SecretFile.Base64(credentials.SigningSeed, "signingSeed", credentialsPath);
        byte[] seed = SecretFile.Base64(credentials.Seed, "seed", credentialsPath);
        byte[] gatewayKey = SecretFile.Base64(credentials.GatewayPublicKey, "gatewayPublicKey", credentialsPath);
        byte[] secret = new byte[kem.SharedSecretBytes];
        var counters = new VehicleChannelCounters("vehicle");
        using var ephemeral = kem.GenerateKeyPair();
        try
        {
            byte[] hello = VehicleHandshake.WriteClientHello(credentials.VehicleId, credentials.GatewayId, credentials.SeedId, ephemeral.EncapsulationKey,
                RandomNumberGenerator.GetBytes(VehicleHandshake.NonceBytes), dsa, signingSeed);
            await FrameIo.WriteAsync(stream, hello, cancellationToken).ConfigureAwait(false);
            byte[] answer = await FrameIo.ReadAsync(stream, cancellationToken).ConfigureAwait(false)
                ?? throw new VehicleProtocolException("the gateway closed the connection before its hello");
            VehicleHandshake.ServerHello server;
            try
            {
                server = VehicleHandshake.ReadServerHello(hello, answer);
                if (!dsa.Verify(gatewayKey, server.Signed, VehicleHandshake.ServerHelloContext, server.Signature))
                    throw new VehicleProtocolException($"the gateway's hello does not verify under the key pinned for gateway '{credentials.GatewayId}' at enrolment: not that gateway");
            }
            catch (VehicleProtocolException)
            {
                counters.CountHandshakeRefused();
                throw;
            }
            kem.Decapsulate(ephemeral.PrivateSeed, server.Ciphertext, secret);
            var client = VehicleHandshake.ReadClientHello(hello);
            var (toGateway, toVehicle) = VehicleHandshake.SessionKeys(seed, secret, client, server);
            var channel = new SecureFrameChannel(stream, toGateway, toVehicle, isGateway: false, counters);
            CryptographicOperations.ZeroMemory(toGateway);
            CryptographicOperations.ZeroMemory(toVehicle);
            counters.CountSession();
            var module = new VehicleKeyModule(stream, connection, channel, counters, credentials.VehicleId);
            await module.ReceiveSeedAsync(credentials, credentialsPath, cancellationToken).ConfigureAwait(false);
            return module;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(signingSeed);
            CryptographicOperations.ZeroMemory(seed);
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>The gateway's first record: the next seed (stored, then acknowledged), or an empty one when its pool had none.</summary>
    private async Task ReceiveSeedAsync(VehicleCredentials credentials, string credentialsPath, CancellationToken cancellationToken)
    {
        byte[]? message = await _channel.ReceiveAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new VehicleProtocolException("the gateway closed the session after the handshake");
        try
        {
            if (message.Length < 19 || message[0] != VehicleMessages.SeedRefresh)
                throw new VehicleProtocolException("the gateway's first record is not a seed");
            var id = new Guid(message.AsSpan(1, 16), bigEndian: true);
            int length = BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(17));
            if (length == 0 && message.Length == 19) return; // no new seed this session: the current one stays
            if (length < 16 || message.Length != 19 + length) throw new VehicleProtocolException("the gateway's seed record is malformed");
            VehicleEnrolment.Save(credentials with { SeedId = id, Seed = Convert.ToBase64String(message, 19, length) }, credentialsPath);
            byte[] ack = new byte[17];
            ack[0] = VehicleMessages.SeedAck;
            id.TryWriteBytes(ack.AsSpan(1), bigEndian: true, out _);
            await _channel.SendAsync(ack, cancellationToken).ConfigureAwait(false);
            SeedRenewed = true;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(message);
        }
    }

    /// <summary>Fetches <paramref name="count"/> keys (1 to 256) from the gateway's pool.</summary>
    /// <exception cref="VehicleKeysUnavailableException">The gateway has not that many keys now (nothing was taken).</exception>
    public async Task<IReadOnlyList<VehicleKey>> FetchAsync(int count, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(count, VehicleMessages.MaxKeysPerRequest);
        byte[] request = new byte[3];
        request[0] = VehicleMessages.KeyRequest;
        BinaryPrimitives.WriteUInt16BigEndian(request.AsSpan(1), (ushort)count);
        await _channel.SendAsync(request, cancellationToken).ConfigureAwait(false);
        byte[] message = await _channel.ReceiveAsync(cancellationToken).ConfigureAwait(false)
            ?? throw new VehicleProtocolException("the gateway closed the session");
        try
        {
            if (message.Length >= 2 && message[0] == VehicleMessages.Error)
                throw new VehicleKeysUnavailableException($"the gateway could not serve {count} keys: {Encoding.UTF8.GetString(message, 2, message.Length - 2)}");
            if (message.Length < 5 || message[0] != VehicleMessages.KeyBatch) throw new VehicleProtocolException("the gateway's answer is not a key batch");
            int n = BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(1)), size = BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(3));
            if (n != count || size == 0 || message.Length != 5 + n * (16 + size)) throw new VehicleProtocolException("the gateway's key batch is malformed");
            var keys = new VehicleKey[n];
            for (int i = 0, at = 5; i < n; i++, at += 16 + size)
                keys[i] = new VehicleKey(new Guid(message.AsSpan(at, 16), bigEndian: true), message.AsSpan(at + 16, size).ToArray());
            Counters.CountKeys(n);
            return keys;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(message);
        }
    }

    /// <summary>Seals a record as the next one this module would send, without sending it: tests replay or alter it.</summary>
    internal byte[] SealForTest(ReadOnlySpan<byte> plaintext) => _channel.Seal(plaintext);

    internal Stream Stream => _stream;

    public async ValueTask DisposeAsync()
    {
        _channel.Dispose();
        await _stream.DisposeAsync().ConfigureAwait(false);
        _connection?.Dispose();
    }
}
