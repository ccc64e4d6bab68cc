namespace Qkd.Hardware.Bindings.Mcp4728;

/// <summary>The four outputs, VOUTA..VOUTD; the value is the DAC1:DAC0 channel-select bits of the commands.</summary>
public enum Mcp4728Channel : byte
{
    A = 0,
    B = 1,
    C = 2,
    D = 3,
}

/// <summary>VREF bit: what the channel's full scale is derived from.</summary>
public enum Mcp4728VoltageReference : byte
{
    /// <summary>VREF = 0: the supply VDD (the gain bit is ignored).</summary>
    Vdd = 0,
    /// <summary>VREF = 1: the internal 2.048 V band-gap reference, times the channel's gain.</summary>
    Internal2048mV = 1,
}

/// <summary>Gx bit: output amplifier gain, used only with the internal reference.</summary>
public enum Mcp4728Gain : byte
{
    One = 0,
    Two = 1,
}

/// <summary>PD1:PD0 bits: normal operation, or powered down with VOUT pulled to ground through a resistor.</summary>
public enum Mcp4728PowerDown : byte
{
    Normal = 0,
    Pulldown1kOhm = 1,
    Pulldown100kOhm = 2,
    Pulldown500kOhm = 3,
}

/// <summary>What one channel register (input register or EEPROM) holds: 12-bit code and its configuration bits.</summary>
public readonly record struct Mcp4728ChannelSetting(
    ushort Code,
    Mcp4728VoltageReference Reference = Mcp4728VoltageReference.Vdd,
    Mcp4728Gain Gain = Mcp4728Gain.One,
    Mcp4728PowerDown PowerDown = Mcp4728PowerDown.Normal);

/// <summary>One 3-byte row of the read command's answer (datasheet "Read Command and Device Outputs").</summary>
/// <param name="Ready">RDY/BSY bit: false while an EEPROM write is in progress.</param>
/// <param name="PoweredOn">POR bit: true once VDD is above the power-on-reset threshold.</param>
/// <param name="AddressBits">A2:A0 of the chip's I2C address.</param>
public readonly record struct Mcp4728RegisterReadback(Mcp4728Channel Channel, bool Ready, bool PoweredOn, int AddressBits, Mcp4728ChannelSetting Setting);

/// <summary>The whole 24-byte read: per channel, the DAC input register and the EEPROM.</summary>
public sealed record Mcp4728Readback(IReadOnlyList<Mcp4728RegisterReadback> InputRegisters, IReadOnlyList<Mcp4728RegisterReadback> Eeprom)
{
    public Mcp4728RegisterReadback this[Mcp4728Channel channel] => InputRegisters[(int)channel];

    /// <summary>False while the chip is still writing its EEPROM.</summary>
    public bool Ready => InputRegisters.All(r => r.Ready);
}
