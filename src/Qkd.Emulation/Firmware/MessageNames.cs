using Qkd.Protocol;

namespace Qkd.Emulation.Firmware;

/// <summary>
/// Message names for nack texts. Types from 0x20 mean different things per class (0x20 is DetectorReadCounts,
/// ModulatorStartEmission, TaggerStartStream and RngStartStream), so the enum's own name would be wrong for most classes.
/// </summary>
public static class MessageNames
{
    public static string Of(DeviceClass deviceClass, MessageType type) => ((byte)type, deviceClass) switch
    {
        (0x20, DeviceClass.SinglePhotonDetector) => nameof(MessageType.DetectorReadCounts),
        (0x21, DeviceClass.SinglePhotonDetector) => nameof(MessageType.DetectorStartBasisModulation),
        (0x22, DeviceClass.SinglePhotonDetector) => nameof(MessageType.DetectorStopBasisModulation),
        (0x23, DeviceClass.SinglePhotonDetector) => nameof(MessageType.DetectorBasisData),
        (0x20, DeviceClass.LaserModulator) => nameof(MessageType.ModulatorStartEmission),
        (0x21, DeviceClass.LaserModulator) => nameof(MessageType.ModulatorStopEmission),
        (0x22, DeviceClass.LaserModulator) => nameof(MessageType.ModulatorSymbolData),
        (0x20, DeviceClass.TimeTagger) => nameof(MessageType.TaggerStartStream),
        (0x21, DeviceClass.TimeTagger) => nameof(MessageType.TaggerStopStream),
        (0x22, DeviceClass.TimeTagger) => nameof(MessageType.TaggerTagData),
        (0x20, DeviceClass.RandomNumberGenerator) => nameof(MessageType.RngStartStream),
        (0x21, DeviceClass.RandomNumberGenerator) => nameof(MessageType.RngStopStream),
        (0x22, DeviceClass.RandomNumberGenerator) => nameof(MessageType.RngEntropyData),
        (0x23, DeviceClass.RandomNumberGenerator) => nameof(MessageType.RngGetHealth),
        (0x24, DeviceClass.RandomNumberGenerator) => nameof(MessageType.RngHealthChanged),
        (< 0x20, _) when Enum.IsDefined(type) => type.ToString(),
        _ => $"message 0x{(byte)type:X2}",
    };
}
