using System.Device.I2c;
using System.Diagnostics;
using Qkd.Protocol;

namespace Qkd.Hardware.Bindings.Mcp4728;

/// <summary>
/// Microchip MCP4728: quad 12-bit voltage-output DAC with EEPROM, on I2C (default address 0x60). Drives the laser
/// modulator's intensity and bias levels (signal / decoy / vacuum drive, bias-tee set points).
/// API in volts: <see cref="SetVoltage"/> converts through the channel's reference (VDD, or internal 2.048 V times
/// gain 1 or 2) and checks the range, naming channel and value on error.
/// </summary>
/// <remarks>
/// Output update: <see cref="SetCode"/>, <see cref="SetVoltage"/> and <see cref="Configure"/> use Multi-Write with
/// UDAC = 0, so VOUT changes at the end of the command whatever the LDAC pin does. <see cref="WriteAllCodes"/> uses
/// Fast Write, which has no UDAC bit: outputs follow at once only when LDAC is tied low (usual on breakout boards).
/// The binding caches each channel's setting (read back from the chip at construction) because every write command
/// carries all fields; <see cref="Refresh"/> re-reads them. Not thread-safe per instance beyond one lock per call.
/// General-call commands (reset, wake-up, software update, address change) go to I2C address 0 and need LDAC
/// control; they are not part of this binding.
/// </remarks>
public sealed class Mcp4728 : IDisposable
{
    public const byte DefaultI2cAddress = 0x60;
    public const double InternalReferenceVolts = 2.048;
    public const int MaxCode = Mcp4728Protocol.MaxCode;
    private const int Steps = MaxCode + 1;

    private readonly I2cDevice _device;
    private readonly bool _ownsDevice;
    private readonly object _gate = new();
    private readonly Mcp4728ChannelSetting[] _settings = new Mcp4728ChannelSetting[4];
    private readonly byte[] _buffer = new byte[Mcp4728Protocol.ReadbackLength];

    /// <param name="device">The chip's I2C device (address 0x60..0x67).</param>
    /// <param name="supplyVolts">VDD (2.7..5.5 V): full scale with the VDD reference, and the ceiling of every output.</param>
    public Mcp4728(I2cDevice device, double supplyVolts, bool ownsDevice = true)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (!(supplyVolts is >= 2.7 and <= 5.5))
            throw new ArgumentOutOfRangeException(nameof(supplyVolts), supplyVolts, "MCP4728 VDD must be within 2.7..5.5 V.");
        _device = device;
        _ownsDevice = ownsDevice;
        SupplyVolts = supplyVolts;
        var settings = device.ConnectionSettings;
        Description = $"MCP4728 DAC (I2C bus {settings.BusId}, address 0x{settings.DeviceAddress:X2})";
        Refresh();
    }

    /// <summary>"MCP4728 DAC (I2C bus 1, address 0x60)": the device part of every error.</summary>
    public string Description { get; }

    public double SupplyVolts { get; }

    /// <summary>How long <see cref="StoreToEeprom"/> waits for RDY (datasheet tWRITE: 25 ms typical, 50 ms max).</summary>
    public TimeSpan EepromWriteTimeout { get; set; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The channel's setting as last written or read back.</summary>
    public Mcp4728ChannelSetting GetSetting(Mcp4728Channel channel)
    {
        CheckChannel(channel);
        lock (_gate) return _settings[(int)channel];
    }

    /// <summary>Full-scale output of the channel in its current configuration: VOUT at code 4096 (never reached; max is 4095/4096 of it).</summary>
    public double FullScaleVolts(Mcp4728Channel channel) => FullScaleVolts(GetSetting(channel));

    /// <summary>One LSB of the channel, volts.</summary>
    public double LsbVolts(Mcp4728Channel channel) => FullScaleVolts(channel) / Steps;

    /// <summary>Highest voltage the channel can produce now: 4095 LSB, but never above VDD.</summary>
    public double MaxVolts(Mcp4728Channel channel) => Math.Min(MaxCode * LsbVolts(channel), SupplyVolts);

    /// <summary>VOUT for <paramref name="code"/> in the channel's configuration (datasheet equations 4-1 and 4-2).</summary>
    public double CodeToVolts(Mcp4728Channel channel, int code)
    {
        CheckCode(channel, code);
        return code * LsbVolts(channel);
    }

    /// <summary>The nearest code to <paramref name="volts"/>; throws naming the channel and value when out of range.</summary>
    public int VoltsToCode(Mcp4728Channel channel, double volts)
    {
        double lsb = LsbVolts(channel);
        double max = MaxVolts(channel);
        if (!double.IsFinite(volts) || volts < 0 || volts > max + lsb / 2)
            throw new ArgumentOutOfRangeException(nameof(volts), volts,
                $"{Description} channel {channel}: {volts} V is outside 0..{max:0.######} V ({Describe(GetSetting(channel))}, VDD {SupplyVolts} V).");
        return (int)Math.Min(Math.Round(volts / lsb, MidpointRounding.AwayFromZero), Math.Floor(max / lsb + 1e-9));
    }

    /// <summary>Sets the channel to the nearest code for <paramref name="volts"/> and updates VOUT. Returns the code written.</summary>
    public int SetVoltage(Mcp4728Channel channel, double volts)
    {
        int code = VoltsToCode(channel, volts);
        SetCode(channel, code);
        return code;
    }

    /// <summary>Writes a 12-bit code to the channel's input register and updates VOUT (Multi-Write, UDAC = 0), keeping its configuration.</summary>
    public void SetCode(Mcp4728Channel channel, int code)
    {
        CheckCode(channel, code);
        lock (_gate) WriteMulti(channel, _settings[(int)channel] with { Code = (ushort)code }, $"set channel {channel} to code {code}");
    }

    /// <summary>Changes a channel's reference, gain and power-down mode, keeping its code (Multi-Write, UDAC = 0).</summary>
    public void Configure(Mcp4728Channel channel, Mcp4728VoltageReference reference, Mcp4728Gain gain, Mcp4728PowerDown powerDown = Mcp4728PowerDown.Normal)
    {
        CheckChannel(channel);
        if (!Enum.IsDefined(reference)) throw new ArgumentOutOfRangeException(nameof(reference), reference, "Unknown MCP4728 reference.");
        if (!Enum.IsDefined(gain)) throw new ArgumentOutOfRangeException(nameof(gain), gain, "Unknown MCP4728 gain.");
        if (!Enum.IsDefined(powerDown)) throw new ArgumentOutOfRangeException(nameof(powerDown), powerDown, "Unknown MCP4728 power-down mode.");
        lock (_gate)
        {
            var setting = _settings[(int)channel] with { Reference = reference, Gain = gain, PowerDown = powerDown };
            WriteMulti(channel, setting, $"configure channel {channel} ({Describe(setting)})");
        }
    }

    /// <summary>Sets all four references in one command (Write VREF select bits).</summary>
    public void SelectReferences(Mcp4728VoltageReference a, Mcp4728VoltageReference b, Mcp4728VoltageReference c, Mcp4728VoltageReference d)
    {
        byte command = (byte)(Mcp4728Protocol.WriteVrefSelect | ((int)a << 3) | ((int)b << 2) | ((int)c << 1) | (int)d);
        lock (_gate)
        {
            Write([command], "select the voltage references");
            Span<Mcp4728VoltageReference> values = [a, b, c, d];
            for (int i = 0; i < 4; i++) _settings[i] = _settings[i] with { Reference = values[i] };
        }
    }

    /// <summary>Sets all four gains in one command (Write gain select bits).</summary>
    public void SelectGains(Mcp4728Gain a, Mcp4728Gain b, Mcp4728Gain c, Mcp4728Gain d)
    {
        byte command = (byte)(Mcp4728Protocol.WriteGainSelect | ((int)a << 3) | ((int)b << 2) | ((int)c << 1) | (int)d);
        lock (_gate)
        {
            Write([command], "select the gains");
            Span<Mcp4728Gain> values = [a, b, c, d];
            for (int i = 0; i < 4; i++) _settings[i] = _settings[i] with { Gain = values[i] };
        }
    }

    /// <summary>Sets all four power-down modes in one command (Write power-down select bits).</summary>
    public void SelectPowerDown(Mcp4728PowerDown a, Mcp4728PowerDown b, Mcp4728PowerDown c, Mcp4728PowerDown d)
    {
        byte first = (byte)(Mcp4728Protocol.WritePowerDownSelect | ((int)a << 2) | (int)b);
        byte second = (byte)(((int)c << 6) | ((int)d << 4));
        lock (_gate)
        {
            Write([first, second], "select the power-down modes");
            Span<Mcp4728PowerDown> values = [a, b, c, d];
            for (int i = 0; i < 4; i++) _settings[i] = _settings[i] with { PowerDown = values[i] };
        }
    }

    /// <summary>
    /// Writes the four codes A..D in one Fast Write (8 bytes: the fastest way to move all levels together), keeping each
    /// channel's power-down mode. VOUT follows at once only with LDAC low (see the remarks).
    /// </summary>
    public void WriteAllCodes(ReadOnlySpan<int> codes)
    {
        if (codes.Length != 4) throw new ArgumentException($"{Description}: Fast Write takes exactly 4 codes (A..D), got {codes.Length}.", nameof(codes));
        for (int i = 0; i < 4; i++) CheckCode((Mcp4728Channel)i, codes[i]);
        lock (_gate)
        {
            Span<byte> frame = stackalloc byte[8];
            for (int i = 0; i < 4; i++)
                Mcp4728Protocol.EncodeFast((ushort)codes[i], _settings[i].PowerDown, frame.Slice(2 * i, 2));
            Write(frame, "write all four codes (fast write)");
            for (int i = 0; i < 4; i++) _settings[i] = _settings[i] with { Code = (ushort)codes[i] };
        }
    }

    /// <summary>Stores the channel's current setting in EEPROM (Single Write) so it is restored at power-up, and waits for the write to finish.</summary>
    public void StoreToEeprom(Mcp4728Channel channel)
    {
        CheckChannel(channel);
        lock (_gate)
        {
            Span<byte> frame = stackalloc byte[3];
            frame[0] = Mcp4728Protocol.ChannelCommand(Mcp4728Protocol.SingleWrite, channel, deferOutputUpdate: false);
            Mcp4728Protocol.EncodeSetting(_settings[(int)channel], frame[1..]);
            Write(frame, $"store channel {channel} in EEPROM");
            WaitUntilReady($"store channel {channel} in EEPROM");
        }
    }

    /// <summary>Stores all four channels in EEPROM with one Sequential Write from channel A, and waits for it to finish.</summary>
    public void StoreAllToEeprom()
    {
        lock (_gate)
        {
            Span<byte> frame = stackalloc byte[9];
            frame[0] = Mcp4728Protocol.ChannelCommand(Mcp4728Protocol.SequentialWrite, Mcp4728Channel.A, deferOutputUpdate: false);
            for (int i = 0; i < 4; i++) Mcp4728Protocol.EncodeSetting(_settings[i], frame.Slice(1 + 2 * i, 2));
            Write(frame, "store all channels in EEPROM");
            WaitUntilReady("store all channels in EEPROM");
        }
    }

    /// <summary>Reads the 24-byte status: every channel's input register and EEPROM, RDY/BSY and POR.</summary>
    public Mcp4728Readback ReadBack()
    {
        lock (_gate) return ReadBackLocked("read back the registers");
    }

    /// <summary>Re-reads the chip and adopts its input registers as the cached settings (after a reset, or someone else's writes).</summary>
    public void Refresh()
    {
        lock (_gate)
        {
            var readback = ReadBackLocked("read the channel settings");
            for (int i = 0; i < 4; i++) _settings[i] = readback.InputRegisters[i].Setting;
        }
    }

    private void WriteMulti(Mcp4728Channel channel, Mcp4728ChannelSetting setting, string operation)
    {
        Span<byte> frame = stackalloc byte[3];
        frame[0] = Mcp4728Protocol.ChannelCommand(Mcp4728Protocol.MultiWrite, channel, deferOutputUpdate: false);
        Mcp4728Protocol.EncodeSetting(setting, frame[1..]);
        Write(frame, operation);
        _settings[(int)channel] = setting;
    }

    private Mcp4728Readback ReadBackLocked(string operation)
    {
        try
        {
            _device.Read(_buffer);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException)
        {
            throw new DeviceException(Description, operation, ex.Message, ex);
        }
        return Mcp4728Protocol.DecodeReadback(_buffer);
    }

    private void WaitUntilReady(string operation)
    {
        var watch = Stopwatch.StartNew();
        while (!ReadBackLocked(operation).Ready)
        {
            if (watch.Elapsed > EepromWriteTimeout) throw new DeviceTimeoutException(Description, operation + " (EEPROM write, RDY/BSY stayed busy)", EepromWriteTimeout);
            Thread.Sleep(1);
        }
    }

    private void Write(ReadOnlySpan<byte> frame, string operation)
    {
        try
        {
            _device.Write(frame);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException)
        {
            throw new DeviceException(Description, operation, ex.Message, ex);
        }
    }

    private double FullScaleVolts(Mcp4728ChannelSetting setting) =>
        setting.Reference == Mcp4728VoltageReference.Vdd ? SupplyVolts : InternalReferenceVolts * (setting.Gain == Mcp4728Gain.Two ? 2 : 1);

    private static string Describe(Mcp4728ChannelSetting s) =>
        (s.Reference == Mcp4728VoltageReference.Vdd ? "VDD reference" : $"internal 2.048 V reference, gain x{(s.Gain == Mcp4728Gain.Two ? 2 : 1)}")
        + (s.PowerDown == Mcp4728PowerDown.Normal ? "" : $", powered down ({s.PowerDown})");

    private void CheckCode(Mcp4728Channel channel, int code)
    {
        CheckChannel(channel);
        if ((uint)code > MaxCode)
            throw new ArgumentOutOfRangeException(nameof(code), code, $"{Description} channel {channel}: code {code} is outside 0..{MaxCode} (12 bits).");
    }

    private void CheckChannel(Mcp4728Channel channel)
    {
        if (!Enum.IsDefined(channel))
            throw new ArgumentOutOfRangeException(nameof(channel), channel, $"{Description}: channel {(int)channel} does not exist (A..D).");
    }

    public void Dispose()
    {
        if (_ownsDevice) _device.Dispose();
    }
}
