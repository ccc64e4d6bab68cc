using Qkd.Hardware.Bindings.Tmp117;

using Qkd.Emulation.Buses;

namespace Qkd.Hardware.Tests.Support;

/// <summary>
/// Register-level model of the TI TMP117 for <see cref="SimulatedI2cDevice"/>: a pointer register selects one of the
/// 16-bit registers (MSB first); a write of one byte sets the pointer, of three bytes also writes the register (the
/// read-only result and device-ID registers ignore it); a read returns the pointed register. Reading the
/// configuration clears Data_Ready, as the chip does. The test sets <see cref="TemperatureCelsius"/> and calls
/// <see cref="CompleteConversion"/> to play a finished conversion (in one-shot mode the chip then shuts down).
/// </summary>
public sealed class SimulatedTmp117 : IRegisterMapChip
{
    private readonly object _gate = new();
    private readonly ushort[] _registers = new ushort[16];
    private byte _pointer;

    public SimulatedTmp117(int revision = 0)
    {
        Revision = revision;
        Reset();
    }

    public string Name => "TMP117";

    public int Revision { get; }

    /// <summary>The die temperature the next conversion measures, °C.</summary>
    public double TemperatureCelsius { get; set; } = 25.0;

    public ushort Register(byte pointer) { lock (_gate) return _registers[pointer & 0x0F]; }

    /// <summary>A conversion completes: result = temperature + offset register, Data_Ready set, one-shot returns to shutdown.</summary>
    public void CompleteConversion()
    {
        lock (_gate)
        {
            ushort config = _registers[Tmp117Register.Configuration];
            if (((config >> 10) & 0b11) == (int)Tmp117ConversionMode.Shutdown) return;
            double offset = (short)_registers[Tmp117Register.TemperatureOffset] * Tmp117Register.CelsiusPerLsb;
            double raw = Math.Clamp(Math.Round((TemperatureCelsius + offset) / Tmp117Register.CelsiusPerLsb), short.MinValue, short.MaxValue);
            _registers[Tmp117Register.TemperatureResult] = (ushort)(short)raw;
            config |= Tmp117Register.ConfigDataReady;
            if (((config >> 10) & 0b11) == (int)Tmp117ConversionMode.OneShot)
                config = (ushort)((config & ~(0b11 << 10)) | ((int)Tmp117ConversionMode.Shutdown << 10));
            _registers[Tmp117Register.Configuration] = config;
        }
    }

    public void Transfer(ReadOnlySpan<byte> written, Span<byte> read)
    {
        lock (_gate)
        {
            if (!written.IsEmpty)
            {
                if (written[0] > 0x0F) throw new IOException($"TMP117 did not acknowledge pointer 0x{written[0]:X2}: no such register.");
                _pointer = written[0];
                if (written.Length >= 3) WriteRegister(_pointer, (ushort)((written[1] << 8) | written[2]));
            }
            if (read.IsEmpty) return;
            ushort value = _registers[_pointer];
            for (int i = 0; i < read.Length; i++) read[i] = (byte)(i % 2 == 0 ? value >> 8 : value);
            if (_pointer == Tmp117Register.Configuration)
                _registers[_pointer] &= unchecked((ushort)~(Tmp117Register.ConfigDataReady | Tmp117Register.ConfigHighAlert | Tmp117Register.ConfigLowAlert));
        }
    }

    private void WriteRegister(byte pointer, ushort value)
    {
        switch (pointer)
        {
            case Tmp117Register.TemperatureResult or Tmp117Register.DeviceId:
                return; // read-only
            case Tmp117Register.Configuration:
                if ((value & Tmp117Register.ConfigSoftReset) != 0) { Reset(); return; }
                // Bits 15:12 are read-only flags; bit 0 is reserved.
                _registers[pointer] = (ushort)((_registers[pointer] & 0xF000) | (value & 0x0FFE));
                return;
            default:
                _registers[pointer] = value;
                return;
        }
    }

    private void Reset()
    {
        Array.Clear(_registers);
        _registers[Tmp117Register.TemperatureResult] = Tmp117Register.ResultNotReady;
        _registers[Tmp117Register.Configuration] = Tmp117Register.ConfigurationDefault;
        _registers[Tmp117Register.HighLimit] = 0x6000; // 192 °C
        _registers[Tmp117Register.LowLimit] = 0x8000;  // -256 °C
        _registers[Tmp117Register.DeviceId] = (ushort)((Revision << 12) | 0x117);
    }
}
