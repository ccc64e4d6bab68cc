namespace Qkd.Pqc.Vehicle;

/// <summary>The messages inside the channel's AES-GCM records (after the handshake). Layouts in README.md.</summary>
internal static class VehicleMessages
{
    /// <summary>Gateway → vehicle, first record of a session: the next session's seed (16-byte key ID, u16 length, key), a QKD key from the pool; length 0 when the pool had none (the current seed stays).</summary>
    public const byte SeedRefresh = 0x10;

    /// <summary>Vehicle → gateway: the vehicle has stored the seed durably (key ID); the gateway forgets the previous one.</summary>
    public const byte SeedAck = 0x11;

    /// <summary>Vehicle → gateway: u16 number of keys wanted.</summary>
    public const byte KeyRequest = 0x12;

    /// <summary>Gateway → vehicle: u16 count, u16 key size in bytes, then count × (16-byte key ID, key).</summary>
    public const byte KeyBatch = 0x13;

    /// <summary>Gateway → vehicle: the request could not be served; u8 code, UTF-8 reason (never key material).</summary>
    public const byte Error = 0x14;

    public const int MaxKeysPerRequest = 256;
}
