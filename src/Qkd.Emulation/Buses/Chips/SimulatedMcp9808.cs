namespace Qkd.Emulation.Buses.Chips;

/// <summary>
/// Register-level model of the Microchip MCP9808 (±0.25 °C digital temperature sensor, I2C address 0x18..0x1F) for
/// <see cref="SimulatedI2cDevice"/>. A write's first byte is the register pointer (bits 3..0; bits 7..4 must be 0, or
/// the part does not acknowledge); a 16-bit register is written with two more bytes and read MSB first, the 8-bit
/// resolution register with one. Registers (datasheet section 5.1):
/// <list type="bullet">
/// <item>0x01 CONFIG: bit 8 SHDN, 7 Crit.Lock, 6 Win.Lock, 5 Int.Clear, 4 Alert Stat. (read-only), 3 Alert Cnt.,
/// 2 Alert Sel., 1 Alert Pol., 0 Alert Mod.; bits 10:9 hysteresis. A lock bit, once written 1, sticks until power-on
/// reset and freezes the limits it guards (Win.Lock: TUPPER and TLOWER; Crit.Lock: TCRIT).</item>
/// <item>0x02 TUPPER, 0x03 TLOWER, 0x04 TCRIT: two's complement in bits 12..2 (0.25 °C), other bits read 0.</item>
/// <item>0x05 TA: bit 15 TA ≥ TCRIT, 14 TA &gt; TUPPER, 13 TA &lt; TLOWER, bit 12 sign, bits 11..0 magnitude in 1/16 °C
/// (13-bit two's complement); read-only.</item>
/// <item>0x06 manufacturer ID 0x0054, 0x07 device ID 0x04 and revision 0x00, 0x08 resolution (bits 1:0: 0.5, 0.25,
/// 0.125, 0.0625 °C; power-on 0.0625 °C).</item>
/// </list>
/// The part converts continuously unless shut down; the test sets <see cref="TemperatureCelsius"/> and calls
/// <see cref="CompleteConversion"/> to play one conversion (tCONV is 30..250 ms by resolution on the real part). A
/// conversion truncates toward −∞ to the resolution, and clamps to the register's −256..+255.9375 °C.
/// </summary>
/// <remarks>
/// Alert Stat. is modelled in comparator mode (Alert Mod. = 0): set when alerts are enabled and TA is outside the
/// window (or, with Alert Sel., at or above TCRIT). The ALERT pin itself and interrupt mode are not modelled. Writes to
/// read-only registers are acknowledged and ignored; a register pointer past 0x08 is not acknowledged.
/// </remarks>
public sealed class SimulatedMcp9808 : IRegisterMapChip
{
    public const byte DefaultAddress = 0x18;
    public const ushort ManufacturerId = 0x0054;
    public const ushort DeviceIdAndRevision = 0x0400;

    private const byte Config = 0x01, Upper = 0x02, Lower = 0x03, Critical = 0x04, Ambient = 0x05, Manufacturer = 0x06, Device = 0x07, Resolution = 0x08;
    private const ushort Shutdown = 0x0100, CritLock = 0x0080, WinLock = 0x0040, IntClear = 0x0020, AlertStat = 0x0010, AlertCnt = 0x0008, AlertSel = 0x0004;

    private readonly object _gate = new();
    private ushort _config, _upper, _lower, _critical, _ambient;
    private byte _resolution;
    private byte _pointer;
    private double _temperature = 25.0;
    private long _conversions;

    public SimulatedMcp9808() => PowerOnReset();

    public string Name => "MCP9808";

    /// <summary>The die temperature the next conversion measures, °C.</summary>
    public double TemperatureCelsius
    {
        get { lock (_gate) return _temperature; }
        set { lock (_gate) _temperature = value; }
    }

    /// <summary>Conversions completed (skipped while shut down).</summary>
    public long Conversions
    {
        get { lock (_gate) return _conversions; }
    }

    public bool IsShutDown
    {
        get { lock (_gate) return (_config & Shutdown) != 0; }
    }

    /// <summary>The register at <paramref name="pointer"/> as the bus would read it (16-bit registers; the resolution register in the low byte).</summary>
    public ushort Register(byte pointer)
    {
        lock (_gate) return Read(pointer);
    }

    /// <summary>One conversion: TA takes <see cref="TemperatureCelsius"/> at the current resolution, with its limit flags. Nothing happens while shut down.</summary>
    public void CompleteConversion()
    {
        lock (_gate)
        {
            if ((_config & Shutdown) != 0) return;
            double step = 0.5 / (1 << _resolution);
            double quantised = Math.Clamp(Math.Floor(_temperature / step) * step, -256.0, 255.9375);
            int raw = (int)Math.Round(quantised * 16) & 0x1FFF; // 13-bit two's complement
            _ambient = (ushort)(raw | Flags(quantised));
            _conversions++;
            UpdateAlertStatus(quantised);
        }
    }

    /// <summary>The TA register's value for <paramref name="celsius"/> at the finest resolution, without flags: the datasheet's encoding.</summary>
    public static ushort EncodeAmbient(double celsius) =>
        (ushort)((int)Math.Round(Math.Clamp(Math.Floor(celsius * 16) / 16, -256.0, 255.9375) * 16) & 0x1FFF);

    /// <summary>The temperature a TA register holds (flags ignored), °C: the datasheet's decoding.</summary>
    public static double DecodeAmbient(ushort register)
    {
        int raw = register & 0x1FFF;
        if ((raw & 0x1000) != 0) raw -= 0x2000;
        return raw / 16.0;
    }

    public void Transfer(ReadOnlySpan<byte> written, Span<byte> read)
    {
        lock (_gate)
        {
            if (!written.IsEmpty)
            {
                byte pointer = written[0];
                if ((pointer & 0xF0) != 0 || (pointer & 0x0F) > Resolution)
                    throw new IOException($"MCP9808 did not acknowledge register pointer 0x{pointer:X2}: no such register.");
                _pointer = pointer;
                if (_pointer == Resolution && written.Length >= 2) _resolution = (byte)(written[1] & 0x03);
                else if (written.Length >= 3) Write(_pointer, (ushort)((written[1] << 8) | written[2]));
            }
            if (read.IsEmpty) return;
            ushort value = Read(_pointer);
            if (_pointer == Resolution)
            {
                read[0] = (byte)value;
                read[1..].Fill(0xFF); // an 8-bit register: the part stops driving SDA after one byte
            }
            else
            {
                read[0] = (byte)(value >> 8);
                if (read.Length > 1) read[1] = (byte)value;
                if (read.Length > 2) read[2..].Fill(0xFF);
            }
        }
    }

    private ushort Read(byte pointer) => pointer switch
    {
        Config => _config,
        Upper => _upper,
        Lower => _lower,
        Critical => _critical,
        Ambient => _ambient,
        Manufacturer => ManufacturerId,
        Device => DeviceIdAndRevision,
        Resolution => _resolution,
        _ => 0x001D, // register 0 is reserved; the part answers with a fixed pattern
    };

    private void Write(byte pointer, ushort value)
    {
        switch (pointer)
        {
            case Config:
                ushort locks = (ushort)(_config & (CritLock | WinLock));
                ushort next = (ushort)(value & 0x07EF); // bit 4 (Alert Stat.) is read-only, bits 15:11 reserved
                if ((next & IntClear) != 0) next &= unchecked((ushort)~IntClear); // interrupt clear reads back 0
                _config = (ushort)(next | locks | (_config & AlertStat));
                break;
            case Upper when (_config & WinLock) == 0:
                _upper = (ushort)(value & 0x1FFC);
                break;
            case Lower when (_config & WinLock) == 0:
                _lower = (ushort)(value & 0x1FFC);
                break;
            case Critical when (_config & CritLock) == 0:
                _critical = (ushort)(value & 0x1FFC);
                break;
            default:
                break; // read-only or locked: acknowledged and ignored
        }
    }

    private ushort Flags(double celsius)
    {
        int flags = 0;
        if (celsius >= DecodeAmbient(_critical)) flags |= 0x8000;
        if (celsius > DecodeAmbient(_upper)) flags |= 0x4000;
        if (celsius < DecodeAmbient(_lower)) flags |= 0x2000;
        return (ushort)flags;
    }

    private void UpdateAlertStatus(double celsius)
    {
        bool enabled = (_config & AlertCnt) != 0, criticalOnly = (_config & AlertSel) != 0;
        bool alert = enabled && (criticalOnly
            ? celsius >= DecodeAmbient(_critical)
            : celsius >= DecodeAmbient(_critical) || celsius > DecodeAmbient(_upper) || celsius < DecodeAmbient(_lower));
        _config = alert ? (ushort)(_config | AlertStat) : (ushort)(_config & ~AlertStat);
    }

    private void PowerOnReset()
    {
        _config = _upper = _lower = _critical = 0;
        _resolution = 0x03;
        _pointer = Ambient;
        CompleteConversion(); // the power-up conversion
    }
}
