using System.Buffers.Binary;

namespace Qkd.Emulation.Fibre;

/// <summary>
/// What the light in the emulated fibre carries besides the symbols: the transmitter's pulse rate, mean photon
/// numbers per level and sync divider (the sync travels on its own fibre in a real link), and where the emission
/// starts. Sent once at the start of an emission, before the symbol chunks.
/// </summary>
public sealed record FibreLight(long PulseRateHz, long SignalMicroPhotons, long DecoyMicroPhotons, long VacuumMicroPhotons, int SyncDivider, long FirstPulse)
{
    public const int Length = 8 + 4 + 8 * 5 + 4;
    private const ulong Magic = 0x5448_4749_4C44_4B51; // "QKDLIGHT"
    private const uint Version = 1;

    public void Write(Span<byte> destination)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(destination, Magic);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[8..], Version);
        BinaryPrimitives.WriteInt64LittleEndian(destination[12..], PulseRateHz);
        BinaryPrimitives.WriteInt64LittleEndian(destination[20..], SignalMicroPhotons);
        BinaryPrimitives.WriteInt64LittleEndian(destination[28..], DecoyMicroPhotons);
        BinaryPrimitives.WriteInt64LittleEndian(destination[36..], VacuumMicroPhotons);
        BinaryPrimitives.WriteInt64LittleEndian(destination[44..], FirstPulse);
        BinaryPrimitives.WriteInt32LittleEndian(destination[52..], SyncDivider);
    }

    public static FibreLight Read(ReadOnlySpan<byte> source)
    {
        if (BinaryPrimitives.ReadUInt64LittleEndian(source) != Magic)
            throw new InvalidDataException("emulated fibre: the peer did not start with the light header (wrong port?)");
        uint version = BinaryPrimitives.ReadUInt32LittleEndian(source[8..]);
        if (version != Version) throw new InvalidDataException($"emulated fibre: header version {version}, this end speaks {Version}");
        return new FibreLight(BinaryPrimitives.ReadInt64LittleEndian(source[12..]), BinaryPrimitives.ReadInt64LittleEndian(source[20..]),
            BinaryPrimitives.ReadInt64LittleEndian(source[28..]), BinaryPrimitives.ReadInt64LittleEndian(source[36..]),
            BinaryPrimitives.ReadInt32LittleEndian(source[52..]), BinaryPrimitives.ReadInt64LittleEndian(source[44..]));
    }
}
