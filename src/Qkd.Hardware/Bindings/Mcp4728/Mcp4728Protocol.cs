namespace Qkd.Hardware.Bindings.Mcp4728;

/// <summary>
/// The MCP4728 write commands and read format (Microchip DS22187, section 5: "Write Commands" and "Read Command"),
/// as byte encoders. First byte of each write: C2 C1 C0 W1 W0 followed by the channel select and UDAC bits.
/// </summary>
public static class Mcp4728Protocol
{
    /// <summary>C2:C1 = 00: Fast Write, input registers A..D in turn, two bytes each, EEPROM untouched.</summary>
    public const byte FastWrite = 0x00;
    /// <summary>C2:C0 = 010, W1:W0 = 00: Multi-Write, one 3-byte block per channel, EEPROM untouched.</summary>
    public const byte MultiWrite = 0x40;
    /// <summary>C2:C0 = 010, W1:W0 = 10: Sequential Write from the selected channel to D, input registers and EEPROM.</summary>
    public const byte SequentialWrite = 0x50;
    /// <summary>C2:C0 = 010, W1:W0 = 11: Single Write of one channel's input register and EEPROM.</summary>
    public const byte SingleWrite = 0x58;
    /// <summary>C2:C0 = 100: Write VREF select bits of all four channels (bits 3..0 = A..D).</summary>
    public const byte WriteVrefSelect = 0x80;
    /// <summary>C2:C0 = 101: Write power-down select bits (two bytes).</summary>
    public const byte WritePowerDownSelect = 0xA0;
    /// <summary>C2:C0 = 110: Write gain select bits of all four channels (bits 3..0 = A..D).</summary>
    public const byte WriteGainSelect = 0xC0;

    /// <summary>Bytes of the read command's answer: 4 channels x (input register 3 bytes + EEPROM 3 bytes).</summary>
    public const int ReadbackLength = 24;

    public const int MaxCode = 4095;

    /// <summary>The first byte of a Multi/Sequential/Single write: command, DAC1:DAC0, UDAC (1 = do not update VOUT yet).</summary>
    public static byte ChannelCommand(byte command, Mcp4728Channel channel, bool deferOutputUpdate) =>
        (byte)(command | ((int)channel << 1) | (deferOutputUpdate ? 1 : 0));

    /// <summary>The two data bytes of a Multi/Sequential/Single write: VREF PD1 PD0 Gx D11..D8, then D7..D0.</summary>
    public static void EncodeSetting(Mcp4728ChannelSetting setting, Span<byte> destination)
    {
        destination[0] = (byte)(((int)setting.Reference << 7) | ((int)setting.PowerDown << 5) | ((int)setting.Gain << 4) | ((setting.Code >> 8) & 0x0F));
        destination[1] = (byte)setting.Code;
    }

    /// <summary>The two bytes of one Fast Write channel: 0 0 PD1 PD0 D11..D8, then D7..D0.</summary>
    public static void EncodeFast(ushort code, Mcp4728PowerDown powerDown, Span<byte> destination)
    {
        destination[0] = (byte)(((int)powerDown << 4) | ((code >> 8) & 0x0F));
        destination[1] = (byte)code;
    }

    /// <summary>Decodes one 3-byte readback row (RDY/BSY POR DAC1 DAC0 0 A2 A1 A0 | VREF PD1 PD0 Gx D11..D8 | D7..D0).</summary>
    public static Mcp4728RegisterReadback DecodeRow(ReadOnlySpan<byte> row) => new(
        (Mcp4728Channel)((row[0] >> 4) & 0x03),
        Ready: (row[0] & 0x80) != 0,
        PoweredOn: (row[0] & 0x40) != 0,
        AddressBits: row[0] & 0x07,
        new Mcp4728ChannelSetting(
            (ushort)(((row[1] & 0x0F) << 8) | row[2]),
            (Mcp4728VoltageReference)(row[1] >> 7),
            (Mcp4728Gain)((row[1] >> 4) & 0x01),
            (Mcp4728PowerDown)((row[1] >> 5) & 0x03)));

    public static Mcp4728Readback DecodeReadback(ReadOnlySpan<byte> answer)
    {
        if (answer.Length != ReadbackLength)
            throw new ArgumentException($"An MCP4728 readback is {ReadbackLength} bytes, not {answer.Length}.", nameof(answer));
        var input = new Mcp4728RegisterReadback[4];
        var eeprom = new Mcp4728RegisterReadback[4];
        for (int i = 0; i < 4; i++)
        {
            input[i] = DecodeRow(answer.Slice(6 * i, 3));
            eeprom[i] = DecodeRow(answer.Slice(6 * i + 3, 3));
        }
        return new Mcp4728Readback(input, eeprom);
    }
}
