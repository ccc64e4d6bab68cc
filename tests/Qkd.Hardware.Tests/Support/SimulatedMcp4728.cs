using Qkd.Hardware.Bindings.Mcp4728;

using Qkd.Emulation.Buses;

namespace Qkd.Hardware.Tests.Support;

/// <summary>
/// A register-level model of the Microchip MCP4728 quad DAC (DS22187) for <see cref="SimulatedI2cDevice"/>: decodes
/// the real command bytes (Fast Write, Multi-Write, Sequential Write, Single Write, VREF / gain / power-down select),
/// keeps per channel the DAC input register, the output register that sets VOUT, and the EEPROM, and answers the
/// 24-byte read exactly as the datasheet lays it out. Decoding is written here from the datasheet independently of the
/// binding's encoder, so a binding bug cannot cancel itself out.
/// </summary>
/// <remarks>
/// Output update rule: an input register is copied to the output register when the command's UDAC bit is 0 or the
/// LDAC pin is low (<see cref="LdacLow"/>); Fast Write has no UDAC bit, so only LDAC counts. VREF/gain/power-down
/// select commands take effect on the outputs at once. EEPROM writes keep RDY/BSY low for the next
/// <see cref="EepromBusyReads"/> reads (time-free, so tests stay deterministic). Bytes a real chip would not acknowledge
/// (reserved commands, the address-change command that needs LDAC timing) throw <see cref="IOException"/>.
/// </remarks>
public sealed class SimulatedMcp4728 : IRegisterMapChip
{
    private readonly object _gate = new();
    private readonly Mcp4728ChannelSetting[] _input = new Mcp4728ChannelSetting[4];
    private readonly Mcp4728ChannelSetting[] _output = new Mcp4728ChannelSetting[4];
    private readonly Mcp4728ChannelSetting[] _eeprom = new Mcp4728ChannelSetting[4];
    private readonly List<string> _log = [];
    private int _busyReadsLeft;

    /// <param name="addressBits">A2:A0 (factory default 000, I2C address 0x60).</param>
    /// <param name="eeprom">EEPROM contents at power-up (factory default: code 0, VDD reference, gain 1, normal).</param>
    public SimulatedMcp4728(int addressBits = 0, ReadOnlySpan<Mcp4728ChannelSetting> eeprom = default)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan((uint)addressBits, 7u, nameof(addressBits));
        AddressBits = addressBits;
        if (!eeprom.IsEmpty)
        {
            if (eeprom.Length != 4) throw new ArgumentException("The MCP4728 has 4 EEPROM channel settings.", nameof(eeprom));
            eeprom.CopyTo(_eeprom);
        }
        PowerOnReset();
    }

    public string Name => "MCP4728";

    public int AddressBits { get; }

    /// <summary>I2C address: 0x60 | A2:A0.</summary>
    public int I2cAddress => 0x60 | AddressBits;

    /// <summary>LDAC pin level: low (true, the usual breakout wiring) makes every input-register write reach VOUT.</summary>
    public bool LdacLow { get; set; } = true;

    /// <summary>Reads that report RDY/BSY busy after each EEPROM write (0 = never busy).</summary>
    public int EepromBusyReads { get; set; } = 1;

    public Mcp4728ChannelSetting InputRegister(Mcp4728Channel channel) { lock (_gate) return _input[(int)channel]; }

    /// <summary>What drives VOUT now.</summary>
    public Mcp4728ChannelSetting OutputRegister(Mcp4728Channel channel) { lock (_gate) return _output[(int)channel]; }

    public Mcp4728ChannelSetting Eeprom(Mcp4728Channel channel) { lock (_gate) return _eeprom[(int)channel]; }

    /// <summary>The voltage at VOUTx for supply <paramref name="vddVolts"/> (0 when powered down, clipped at VDD).</summary>
    public double OutputVolts(Mcp4728Channel channel, double vddVolts)
    {
        var s = OutputRegister(channel);
        if (s.PowerDown != Mcp4728PowerDown.Normal) return 0;
        double fullScale = s.Reference == Mcp4728VoltageReference.Vdd ? vddVolts : 2.048 * (s.Gain == Mcp4728Gain.Two ? 2 : 1);
        return Math.Min(fullScale * s.Code / 4096, vddVolts);
    }

    /// <summary>Decoded commands, one line each ("MultiWrite B code=1234 vref=Internal2048mV gain=Two pd=Normal udac=0"), in order.</summary>
    public IReadOnlyList<string> CommandLog { get { lock (_gate) return _log.ToArray(); } }

    /// <summary>LDAC falling edge: every output register takes its input register.</summary>
    public void PulseLdac() { lock (_gate) { Array.Copy(_input, _output, 4); _log.Add("LDAC pulse"); } }

    /// <summary>General call reset (0x00 0x06) or power cycle: input and output registers reload from EEPROM.</summary>
    public void PowerOnReset()
    {
        lock (_gate)
        {
            Array.Copy(_eeprom, _input, 4);
            Array.Copy(_eeprom, _output, 4);
            _busyReadsLeft = 0;
        }
    }

    public void Transfer(ReadOnlySpan<byte> written, Span<byte> read)
    {
        lock (_gate)
        {
            if (!written.IsEmpty) Execute(written);
            if (!read.IsEmpty) Answer(read);
        }
    }

    private void Execute(ReadOnlySpan<byte> bytes)
    {
        byte first = bytes[0];
        if ((first & 0xC0) == 0x00) { FastWrite(bytes); return; }
        switch (first >> 5)
        {
            case 0b010:
                switch ((first >> 3) & 0b11)
                {
                    case 0b00: MultiWrite(bytes); return;
                    case 0b10: SequentialWrite(bytes); return;
                    case 0b11: SingleWrite(bytes); return;
                    default: throw Nack(first, "W1:W0 = 01 is not a write function");
                }
            case 0b100: // 1 0 0 x VA VB VC VD
                for (int i = 0; i < 4; i++) Reconfigure(i, s => s with { Reference = (Mcp4728VoltageReference)((first >> (3 - i)) & 1) });
                _log.Add($"WriteVref {Convert.ToString(first & 0x0F, 2).PadLeft(4, '0')}");
                return;
            case 0b110: // 1 1 0 x GA GB GC GD
                for (int i = 0; i < 4; i++) Reconfigure(i, s => s with { Gain = (Mcp4728Gain)((first >> (3 - i)) & 1) });
                _log.Add($"WriteGain {Convert.ToString(first & 0x0F, 2).PadLeft(4, '0')}");
                return;
            case 0b101: // 1 0 1 x PD1A PD0A PD1B PD0B | PD1C PD0C PD1D PD0D x x x x
                if (bytes.Length < 2) { _log.Add("WritePowerDown incomplete (ignored)"); return; }
                int bits = ((first & 0x0F) << 4) | (bytes[1] >> 4); // A B C D, two bits each, A highest
                for (int i = 0; i < 4; i++) Reconfigure(i, s => s with { PowerDown = (Mcp4728PowerDown)((bits >> (6 - 2 * i)) & 0b11) });
                _log.Add($"WritePowerDown A={(Mcp4728PowerDown)((bits >> 6) & 3)} B={(Mcp4728PowerDown)((bits >> 4) & 3)} C={(Mcp4728PowerDown)((bits >> 2) & 3)} D={(Mcp4728PowerDown)(bits & 3)}");
                return;
            case 0b011:
                throw Nack(first, "Write I2C address bits needs the LDAC pin sequence, which this model does not simulate");
            default:
                throw Nack(first, "reserved command");
        }
    }

    /// <summary>Fast Write: pairs (0 0 PD1 PD0 D11..D8, D7..D0) for A, B, C, D; the configuration bits other than PD keep their values.</summary>
    private void FastWrite(ReadOnlySpan<byte> bytes)
    {
        int channel = 0;
        for (int i = 0; i + 1 < bytes.Length; i += 2, channel = (channel + 1) % 4)
        {
            var setting = _input[channel] with
            {
                PowerDown = (Mcp4728PowerDown)((bytes[i] >> 4) & 0b11),
                Code = (ushort)(((bytes[i] & 0x0F) << 8) | bytes[i + 1]),
            };
            _input[channel] = setting;
            if (LdacLow) _output[channel] = setting;
            _log.Add($"FastWrite {(Mcp4728Channel)channel} code={setting.Code} pd={setting.PowerDown}");
        }
        if (bytes.Length % 2 != 0) _log.Add("FastWrite trailing byte ignored");
    }

    /// <summary>Multi-Write: 3-byte blocks (0 1 0 0 0 DAC1 DAC0 UDAC, VREF PD1 PD0 Gx D11..D8, D7..D0), each for its own channel.</summary>
    private void MultiWrite(ReadOnlySpan<byte> bytes)
    {
        for (int i = 0; i < bytes.Length; i += 3)
        {
            if (i + 3 > bytes.Length) { _log.Add("MultiWrite incomplete block ignored"); return; }
            if ((bytes[i] & 0xF8) != Mcp4728Protocol.MultiWrite) throw Nack(bytes[i], "a Multi-Write block must start with 01000xxx");
            int channel = (bytes[i] >> 1) & 0b11;
            bool udac = (bytes[i] & 1) != 0;
            var setting = DecodeData(bytes[i + 1], bytes[i + 2]);
            _input[channel] = setting;
            if (!udac || LdacLow) _output[channel] = setting;
            _log.Add($"MultiWrite {Describe(channel, setting)} udac={(udac ? 1 : 0)}");
        }
    }

    /// <summary>Sequential Write: 0 1 0 1 0 DAC1 DAC0 UDAC, then data pairs for the start channel through D, each also into EEPROM.</summary>
    private void SequentialWrite(ReadOnlySpan<byte> bytes)
    {
        int channel = (bytes[0] >> 1) & 0b11;
        bool udac = (bytes[0] & 1) != 0;
        bool any = false;
        for (int i = 1; i + 1 < bytes.Length && channel < 4; i += 2, channel++)
        {
            var setting = DecodeData(bytes[i], bytes[i + 1]);
            StoreAndLatch(channel, setting, udac);
            _log.Add($"SequentialWrite {Describe(channel, setting)} udac={(udac ? 1 : 0)}");
            any = true;
        }
        if (any) _busyReadsLeft = EepromBusyReads;
    }

    /// <summary>Single Write: 0 1 0 1 1 DAC1 DAC0 UDAC, then one data pair, into input register and EEPROM.</summary>
    private void SingleWrite(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length < 3) { _log.Add("SingleWrite incomplete (ignored)"); return; }
        int channel = (bytes[0] >> 1) & 0b11;
        bool udac = (bytes[0] & 1) != 0;
        var setting = DecodeData(bytes[1], bytes[2]);
        StoreAndLatch(channel, setting, udac);
        _busyReadsLeft = EepromBusyReads;
        _log.Add($"SingleWrite {Describe(channel, setting)} udac={(udac ? 1 : 0)}");
    }

    private void StoreAndLatch(int channel, Mcp4728ChannelSetting setting, bool udac)
    {
        _input[channel] = setting;
        _eeprom[channel] = setting;
        if (!udac || LdacLow) _output[channel] = setting;
    }

    private void Reconfigure(int channel, Func<Mcp4728ChannelSetting, Mcp4728ChannelSetting> change)
    {
        _input[channel] = change(_input[channel]);
        _output[channel] = change(_output[channel]);
    }

    /// <summary>The 24-byte answer: per channel A..D, the input register row then the EEPROM row (RDY/BSY POR DAC1 DAC0 0 A2 A1 A0 | VREF PD1 PD0 Gx D11..D8 | D7..D0).</summary>
    private void Answer(Span<byte> read)
    {
        bool ready = _busyReadsLeft == 0;
        if (!ready) _busyReadsLeft--;
        Span<byte> all = stackalloc byte[24];
        for (int channel = 0; channel < 4; channel++)
        {
            EncodeRow(channel, _input[channel], ready, all.Slice(6 * channel, 3));
            EncodeRow(channel, _eeprom[channel], ready, all.Slice(6 * channel + 3, 3));
        }
        // Reading past 24 bytes repeats the sequence, as the chip's read pointer wraps.
        for (int i = 0; i < read.Length; i++) read[i] = all[i % 24];
        _log.Add($"Read {read.Length} bytes{(ready ? "" : " (busy)")}");
    }

    private void EncodeRow(int channel, Mcp4728ChannelSetting s, bool ready, Span<byte> row)
    {
        row[0] = (byte)((ready ? 0x80 : 0) | 0x40 /* POR: powered */ | (channel << 4) | AddressBits);
        row[1] = (byte)(((int)s.Reference << 7) | ((int)s.PowerDown << 5) | ((int)s.Gain << 4) | (s.Code >> 8));
        row[2] = (byte)s.Code;
    }

    private static Mcp4728ChannelSetting DecodeData(byte high, byte low) => new(
        (ushort)(((high & 0x0F) << 8) | low),
        (Mcp4728VoltageReference)(high >> 7),
        (Mcp4728Gain)((high >> 4) & 1),
        (Mcp4728PowerDown)((high >> 5) & 0b11));

    private static string Describe(int channel, Mcp4728ChannelSetting s) =>
        $"{(Mcp4728Channel)channel} code={s.Code} vref={s.Reference} gain={s.Gain} pd={s.PowerDown}";

    private static IOException Nack(byte first, string why) => new($"MCP4728 did not acknowledge command byte 0x{first:X2}: {why}.");
}
