using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Logging;
using Qkd.Pqc.Algorithms;

namespace Qkd.Pqc.Vehicle;

/// <summary>
/// The node-side end of the vehicle channel: listens on TCP, authenticates each enrolled vehicle (ML-DSA-65, pinned at
/// enrolment), agrees a session by ML-KEM-768 and the vehicle's seed through the hybrid combiner, hands the vehicle its
/// next seed (a QKD key from the pool), then serves key requests from the pool over AES-256-GCM records. Keys leave the
/// pool before they are sent and are zeroised once sealed. Refusals and rejected records are counted
/// (<see cref="Counters"/>) and logged without key material.
/// </summary>
public sealed partial class VehicleGateway : IAsyncDisposable
{
    private readonly VehicleRegistry _registry;
    private readonly GatewayIdentity _identity;
    private readonly IVehicleKeySource _keys;
    private readonly IKeyEncapsulation _kem;
    private readonly ISignatureScheme _dsa;
    private readonly ILogger _logger;
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _sessions = [];
    private Task? _accept;

    public VehicleGateway(IPEndPoint endpoint, VehicleRegistry registry, string gatewayId, IVehicleKeySource keys, ILogger logger,
        IKeyEncapsulation? kem = null, ISignatureScheme? dsa = null)
    {
        _kem = kem ?? PostQuantum.MlKem768;
        _dsa = dsa ?? PostQuantum.MlDsa65;
        _registry = registry;
        _identity = registry.LoadOrCreateGateway(gatewayId, _dsa);
        _keys = keys;
        _logger = logger;
        _listener = new TcpListener(endpoint);
    }

    public VehicleChannelCounters Counters { get; } = new("gateway");

    /// <summary>The bound endpoint (after <see cref="Start"/>; port 0 picks a free one).</summary>
    public IPEndPoint LocalEndpoint => (IPEndPoint)_listener.LocalEndpoint;

    public byte[] PublicKey => _identity.PublicKey;

    public void Start()
    {
        _listener.Start();
        _accept = Task.Run(AcceptLoopAsync);
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            lock (_sessions)
            {
                _sessions.RemoveAll(t => t.IsCompleted);
                _sessions.Add(Task.Run(() => ServeClientAsync(client)));
            }
        }
    }

    private async Task ServeClientAsync(TcpClient client)
    {
        string remote = client.Client.RemoteEndPoint?.ToString() ?? "?";
        using (client)
        {
            client.NoDelay = true;
            try
            {
                await ServeAsync(client.GetStream(), _stop.Token).ConfigureAwait(false);
            }
            catch (VehicleProtocolException e)
            {
                LogRefused(remote, e.Message);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or EndOfStreamException)
            {
                if (!_stop.IsCancellationRequested) LogDropped(remote, e.Message);
            }
        }
    }

    /// <summary>Serves one vehicle on a connected stream until it closes (public so tests can serve over any stream).</summary>
    public async Task ServeAsync(Stream stream, CancellationToken cancellationToken)
    {
        byte[] helloBody = await FrameIo.ReadAsync(stream, cancellationToken).ConfigureAwait(false)
            ?? throw new VehicleProtocolException("the vehicle closed the connection before its hello");
        VehicleHandshake.ClientHello hello;
        byte[]? seed = null;
        byte[] secret = new byte[_kem.SharedSecretBytes];
        byte[]? toGateway = null, toVehicle = null;
        try
        {
            hello = VehicleHandshake.ReadClientHello(helloBody);
            byte[] pinned = _registry.PublicKeyOf(hello.VehicleId)
                ?? await RefuseAsync(stream, $"vehicle '{Shown(hello.VehicleId)}' is not enrolled at this gateway", cancellationToken).ConfigureAwait(false);
            if (!_dsa.Verify(pinned, hello.Signed, VehicleHandshake.ClientHelloContext, hello.Signature))
                await RefuseAsync(stream, $"the hello of vehicle '{hello.VehicleId}' does not verify under its enrolled key", cancellationToken).ConfigureAwait(false);
            if (hello.GatewayId != _identity.GatewayId)
                await RefuseAsync(stream, $"the hello is for gateway '{Shown(hello.GatewayId)}', this is '{_identity.GatewayId}'", cancellationToken).ConfigureAwait(false);
            seed = _registry.UseSeed(hello.VehicleId, hello.SeedId)
                ?? await RefuseAsync(stream, $"vehicle '{hello.VehicleId}' names a seed this gateway does not hold; enrol it again", cancellationToken).ConfigureAwait(false);

            byte[] ciphertext = new byte[_kem.CiphertextBytes];
            try
            {
                _kem.Encapsulate(hello.EncapsulationKey, ciphertext, secret);
            }
            catch (PqcException e)
            {
                await RefuseAsync(stream, $"vehicle '{hello.VehicleId}': {e.Message}", cancellationToken).ConfigureAwait(false);
            }
            byte[] answer = VehicleHandshake.WriteServerHello(helloBody, ciphertext, RandomNumberGenerator.GetBytes(VehicleHandshake.NonceBytes), _dsa, _identity.SigningSeed);
            var server = VehicleHandshake.ReadServerHello(helloBody, answer);
            (toGateway, toVehicle) = VehicleHandshake.SessionKeys(seed, secret, hello, server);
            await FrameIo.WriteAsync(stream, answer, cancellationToken).ConfigureAwait(false);
        }
        catch (VehicleProtocolException)
        {
            Counters.CountHandshakeRefused();
            throw;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
            if (seed is not null) CryptographicOperations.ZeroMemory(seed);
        }

        using var channel = new SecureFrameChannel(stream, toVehicle, toGateway, isGateway: true, Counters);
        CryptographicOperations.ZeroMemory(toGateway);
        CryptographicOperations.ZeroMemory(toVehicle);
        Counters.CountSession();
        LogSession(hello.VehicleId);
        await SendNextSeedAsync(channel, hello.VehicleId, cancellationToken).ConfigureAwait(false);

        while (true)
        {
            byte[]? message = await channel.ReceiveAsync(cancellationToken).ConfigureAwait(false);
            if (message is null) return;
            if (message.Length == 17 && message[0] == VehicleMessages.SeedAck)
            {
                _registry.ConfirmSeed(hello.VehicleId, new Guid(message.AsSpan(1, 16), bigEndian: true));
            }
            else if (message.Length == 3 && message[0] == VehicleMessages.KeyRequest)
            {
                int count = BinaryPrimitives.ReadUInt16BigEndian(message.AsSpan(1));
                await ServeKeysAsync(channel, hello.VehicleId, count, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                throw new VehicleProtocolException($"vehicle '{hello.VehicleId}' sent an unknown message (type {(message.Length > 0 ? message[0] : -1)}, {message.Length} bytes)");
            }
        }
    }

    private async ValueTask SendNextSeedAsync(SecureFrameChannel channel, string vehicleId, CancellationToken cancellationToken)
    {
        VehicleKey next;
        try
        {
            next = await _keys.TakeSeedAsync(vehicleId, cancellationToken).ConfigureAwait(false);
        }
        catch (VehicleKeysUnavailableException e)
        {
            // The session goes on with the current seed (an empty seed record says so); the next session tries again.
            LogNoSeed(vehicleId, e.Message);
            byte[] none = new byte[19];
            none[0] = VehicleMessages.SeedRefresh;
            await channel.SendAsync(none, cancellationToken).ConfigureAwait(false);
            return;
        }
        byte[] message = new byte[1 + 16 + 2 + next.Key.Length];
        try
        {
            _registry.AddSeed(vehicleId, next.Id, next.Key);
            message[0] = VehicleMessages.SeedRefresh;
            next.Id.TryWriteBytes(message.AsSpan(1), bigEndian: true, out _);
            BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(17), (ushort)next.Key.Length);
            next.Key.CopyTo(message, 19);
            await channel.SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(next.Key);
            CryptographicOperations.ZeroMemory(message);
        }
    }

    private async ValueTask ServeKeysAsync(SecureFrameChannel channel, string vehicleId, int count, CancellationToken cancellationToken)
    {
        if (count is < 1 or > VehicleMessages.MaxKeysPerRequest)
        {
            await SendErrorAsync(channel, 1, $"{count} keys asked: 1 to {VehicleMessages.MaxKeysPerRequest} per request", cancellationToken).ConfigureAwait(false);
            return;
        }
        IReadOnlyList<VehicleKey> keys;
        try
        {
            keys = await _keys.TakeForVehicleAsync(vehicleId, count, cancellationToken).ConfigureAwait(false);
        }
        catch (VehicleKeysUnavailableException e)
        {
            await SendErrorAsync(channel, 2, e.Message, cancellationToken).ConfigureAwait(false);
            return;
        }
        int keyBytes = _keys.KeyBytes;
        byte[] message = new byte[5 + keys.Count * (16 + keyBytes)];
        try
        {
            message[0] = VehicleMessages.KeyBatch;
            BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(1), (ushort)keys.Count);
            BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(3), (ushort)keyBytes);
            int at = 5;
            foreach (var key in keys)
            {
                if (key.Key.Length != keyBytes) throw new InvalidOperationException($"the key source gave a key of {key.Key.Length} bytes, not {keyBytes}");
                key.Id.TryWriteBytes(message.AsSpan(at), bigEndian: true, out _);
                key.Key.CopyTo(message, at + 16);
                at += 16 + keyBytes;
            }
            await channel.SendAsync(message, cancellationToken).ConfigureAwait(false);
            Counters.CountKeys(keys.Count);
        }
        finally
        {
            foreach (var key in keys) CryptographicOperations.ZeroMemory(key.Key);
            CryptographicOperations.ZeroMemory(message);
        }
    }

    private static async ValueTask SendErrorAsync(SecureFrameChannel channel, byte code, string reason, CancellationToken cancellationToken)
    {
        byte[] text = Encoding.UTF8.GetBytes(reason.Length > 300 ? reason[..300] : reason);
        byte[] message = new byte[2 + text.Length];
        message[0] = VehicleMessages.Error;
        message[1] = code;
        text.CopyTo(message, 2);
        await channel.SendAsync(message, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Tells the vehicle why (unauthenticated, plain text, no secrets) and ends the session.</summary>
    private static async Task<byte[]> RefuseAsync(Stream stream, string reason, CancellationToken cancellationToken)
    {
        try
        {
            await FrameIo.WriteAsync(stream, VehicleHandshake.Refusal(reason), cancellationToken).ConfigureAwait(false);
        }
        catch (IOException)
        {
        }
        throw new VehicleProtocolException(reason);
    }

    private static string Shown(string text) => text.Length <= 64 ? text : text[..64] + "...";

    public async ValueTask DisposeAsync()
    {
        if (_stop.IsCancellationRequested) return;
        _stop.Cancel();
        _listener.Stop();
        if (_accept is not null) await _accept.ConfigureAwait(false);
        Task[] sessions;
        lock (_sessions) sessions = [.. _sessions];
        await Task.WhenAll(sessions).ConfigureAwait(false);
        _identity.Dispose();
        _stop.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Vehicle gateway: session with vehicle {VehicleId} (ML-KEM-768 + QKD seed, ML-DSA-65 both ways)")]
    private partial void LogSession(string vehicleId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Vehicle gateway: {Remote} refused: {Reason}")]
    private partial void LogRefused(string remote, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Vehicle gateway: {Remote} dropped: {Reason}")]
    private partial void LogDropped(string remote, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Vehicle gateway: no QKD key for vehicle {VehicleId}'s next seed ({Reason}); it keeps its current seed")]
    private partial void LogNoSeed(string vehicleId, string reason);
}
