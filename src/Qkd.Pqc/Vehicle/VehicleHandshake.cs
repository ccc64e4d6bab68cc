using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Qkd.Pqc.Algorithms;
using Qkd.Pqc.Hybrid;

namespace Qkd.Pqc.Vehicle;

/// <summary>
/// The two handshake messages of the vehicle channel and its key schedule (wire format in README.md, "The vehicle
/// channel"). The vehicle signs its hello (with a fresh ML-KEM-768 encapsulation key) under its enrolled ML-DSA-65 key;
/// the gateway answers with the ML-KEM ciphertext, signed under its own ML-DSA-65 key over the hash of the vehicle's
/// hello and its answer. Both then derive the session's two AES-256-GCM keys with the hybrid combiner from the seed (a
/// QKD key from the node's pool, or the enrolment secret for the first session) and the ML-KEM shared secret, bound
/// to the transcript.
/// </summary>
internal static class VehicleHandshake
{
    public const byte ClientHelloType = 1;
    public const byte ServerHelloType = 2;
    public const byte RefusalType = 3;
    public const byte Version = 1;
    public const int NonceBytes = 32;
    public static readonly byte[] ClientHelloContext = "qkd-vehicle-client-hello/v1"u8.ToArray();
    public static readonly byte[] ServerHelloContext = "qkd-vehicle-server-hello/v1"u8.ToArray();
    public const string Purpose = "vehicle-session";

    public sealed record ClientHello(string VehicleId, string GatewayId, Guid SeedId, byte[] EncapsulationKey, byte[] Nonce, byte[] Signed, byte[] Signature, byte[] Body);

    public sealed record ServerHello(byte[] Ciphertext, byte[] Nonce, byte[] Signed, byte[] Signature, byte[] Body);

    public static byte[] WriteClientHello(string vehicleId, string gatewayId, Guid seedId, byte[] encapsulationKey, byte[] nonce, ISignatureScheme dsa, ReadOnlySpan<byte> signingSeed)
    {
        var w = new Writer();
        w.Byte(ClientHelloType);
        w.Byte(Version);
        w.Text(vehicleId);
        w.Text(gatewayId);
        w.Guid(seedId);
        w.Bytes(encapsulationKey);
        w.Raw(nonce);
        byte[] signed = w.ToArray();
        byte[] signature = dsa.Sign(signingSeed, signed, ClientHelloContext);
        w.Bytes(signature);
        return w.ToArray();
    }

    public static ClientHello ReadClientHello(byte[] body)
    {
        var r = new Reader(body);
        if (r.Byte() != ClientHelloType) throw new VehicleProtocolException("the first message is not a vehicle hello");
        byte version = r.Byte();
        if (version != Version) throw new VehicleProtocolException($"vehicle channel version {version}, this gateway speaks {Version}");
        string vehicle = r.Text(), gateway = r.Text();
        Guid seed = r.Guid();
        byte[] ek = r.Bytes();
        byte[] nonce = r.Raw(NonceBytes);
        int signedLength = r.Position;
        byte[] signature = r.Bytes();
        r.End();
        return new ClientHello(vehicle, gateway, seed, ek, nonce, body[..signedLength], signature, body);
    }

    public static byte[] WriteServerHello(byte[] clientHello, byte[] ciphertext, byte[] nonce, ISignatureScheme dsa, ReadOnlySpan<byte> signingSeed)
    {
        var w = new Writer();
        w.Byte(ServerHelloType);
        w.Bytes(ciphertext);
        w.Raw(nonce);
        byte[] signedPart = w.ToArray();
        byte[] signature = dsa.Sign(signingSeed, ServerSigned(clientHello, signedPart), ServerHelloContext);
        w.Bytes(signature);
        return w.ToArray();
    }

    public static ServerHello ReadServerHello(byte[] clientHello, byte[] body)
    {
        var r = new Reader(body);
        byte type = r.Byte();
        if (type == RefusalType) throw new VehicleProtocolException($"the gateway refused the vehicle: {Encoding.UTF8.GetString(body, 1, Math.Min(body.Length - 1, 200))}");
        if (type != ServerHelloType) throw new VehicleProtocolException("the gateway's answer is not a gateway hello");
        byte[] ct = r.Bytes();
        byte[] nonce = r.Raw(NonceBytes);
        int signedLength = r.Position;
        byte[] signature = r.Bytes();
        r.End();
        return new ServerHello(ct, nonce, ServerSigned(clientHello, body.AsSpan(0, signedLength).ToArray()), signature, body);
    }

    public static byte[] Refusal(string reason)
    {
        byte[] text = Encoding.UTF8.GetBytes(reason);
        byte[] body = new byte[1 + text.Length];
        body[0] = RefusalType;
        text.CopyTo(body, 1);
        return body;
    }

    /// <summary>What the gateway signs: SHA-384 of the vehicle's hello, then its own answer up to the signature.</summary>
    private static byte[] ServerSigned(byte[] clientHello, byte[] serverPart)
    {
        byte[] signed = new byte[48 + serverPart.Length];
        SHA384.HashData(clientHello, signed);
        serverPart.CopyTo(signed, 48);
        return signed;
    }

    /// <summary>
    /// The session's keys: 64 bytes from the hybrid combiner (seed as the QKD input, the ML-KEM secret as the other,
    /// context: purpose "vehicle-session", seed ID, gateway ID, vehicle ID, ciphertext, SHA-384 of both hellos), the first
    /// half for records from the vehicle, the second for records from the gateway.
    /// </summary>
    public static (byte[] VehicleToGateway, byte[] GatewayToVehicle) SessionKeys(ReadOnlySpan<byte> seed, ReadOnlySpan<byte> kemSecret,
        ClientHello client, ServerHello server)
    {
        byte[] transcript = new byte[48];
        using (var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA384))
        {
            hash.AppendData(client.Body);
            hash.AppendData(server.Body);
            hash.GetHashAndReset(transcript);
        }
        Span<byte> secret = stackalloc byte[64];
        try
        {
            HybridKeyCombiner.Default.Combine(seed, kemSecret,
                new HybridContext(Purpose, client.SeedId, client.GatewayId, client.VehicleId, server.Ciphertext, "ML-KEM-768", transcript), secret);
            return (secret[..32].ToArray(), secret[32..].ToArray());
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }

    /// <summary>Builds a message: u16 big-endian length before every variable field.</summary>
    internal sealed class Writer
    {
        private readonly List<byte> _bytes = new(4096);

        public void Byte(byte value) => _bytes.Add(value);

        public void U16(int value)
        {
            if (value is < 0 or > ushort.MaxValue) throw new ArgumentOutOfRangeException(nameof(value));
            _bytes.Add((byte)(value >> 8));
            _bytes.Add((byte)value);
        }

        public void Raw(ReadOnlySpan<byte> value) => _bytes.AddRange(value);

        public void Bytes(ReadOnlySpan<byte> value)
        {
            U16(value.Length);
            _bytes.AddRange(value);
        }

        public void Text(string value) => Bytes(Encoding.UTF8.GetBytes(value));

        public void Guid(Guid value)
        {
            Span<byte> id = stackalloc byte[16];
            value.TryWriteBytes(id, bigEndian: true, out _);
            _bytes.AddRange(id);
        }

        public byte[] ToArray() => _bytes.ToArray();
    }

    /// <summary>Reads a message; anything short or left over is a <see cref="VehicleProtocolException"/>.</summary>
    internal sealed class Reader(byte[] body)
    {
        public int Position { get; private set; }

        public byte Byte()
        {
            Need(1);
            return body[Position++];
        }

        public int U16()
        {
            Need(2);
            int value = BinaryPrimitives.ReadUInt16BigEndian(body.AsSpan(Position));
            Position += 2;
            return value;
        }

        public byte[] Raw(int length)
        {
            Need(length);
            byte[] value = body.AsSpan(Position, length).ToArray();
            Position += length;
            return value;
        }

        public byte[] Bytes() => Raw(U16());

        public string Text()
        {
            try
            {
                return new UTF8Encoding(false, true).GetString(Bytes());
            }
            catch (DecoderFallbackException)
            {
                throw new VehicleProtocolException("a name in the message is not UTF-8");
            }
        }

        public Guid Guid() => new(Raw(16), bigEndian: true);

        public void End()
        {
            if (Position != body.Length) throw new VehicleProtocolException($"{body.Length - Position} bytes left over after the message");
        }

        private void Need(int count)
        {
            if (body.Length - Position < count) throw new VehicleProtocolException("the message is truncated");
        }
    }
}
