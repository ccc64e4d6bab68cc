namespace Qkd.Core;

/// <summary>
/// What Alice prepared in one pulse: basis, bit value and intensity class. Packed into one byte so
/// emission logs stay small (1 GHz means 1e9 symbols per second).
/// </summary>
public readonly record struct PulseSymbol(Basis Basis, byte Bit, Intensity Intensity)
{
    public byte Pack() => (byte)((byte)Basis | (Bit << 1) | ((byte)Intensity << 2));

    public static PulseSymbol Unpack(byte packed) =>
        new((Basis)(packed & 1), (byte)((packed >> 1) & 1), (Intensity)((packed >> 2) & 3));
}
