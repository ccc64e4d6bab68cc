namespace Qkd.Emulation.Buses.Chips;

/// <summary>
/// Register-level model of the TI ADS1115 (16-bit delta-sigma ADC, four inputs, PGA, I2C address 0x48..0x4B) for
/// <see cref="SimulatedI2cDevice"/>. A write's first byte is the address pointer (bits 1:0; bits 7:2 must be 0, or the
/// part does not acknowledge); two more bytes write the pointed register MSB first; a read returns it MSB first.
/// Registers (datasheet section 9.6):
/// <list type="bullet">
/// <item>00 conversion: the last result, 16-bit two's complement, one LSB = FSR / 32768, clipped to 0x8000..0x7FFF.</item>
/// <item>01 config (reset 0x8583): OS (15), MUX (14:12), PGA (11:9), MODE (8), DR (7:5), COMP_MODE, COMP_POL, COMP_LAT,
/// COMP_QUE (4:0). Writing OS = 1 in power-down (single-shot) mode starts a conversion; OS reads 0 while one runs, 1
/// when idle; in continuous mode the part is always converting and OS reads 0.</item>
/// <item>10 Lo_thresh (reset 0x8000), 11 Hi_thresh (reset 0x7FFF).</item>
/// </list>
/// A conversion takes 1/DR on the <see cref="TimeProvider"/> given at construction (8..860 SPS), so a driver's
/// busy-poll sees OS = 0 for as long as the real part would show it; with a clock that does not move the conversion
/// never ends. The inputs are properties (<see cref="SetInputVolts"/>); a conversion samples them when it starts (the
/// real converter averages over the conversion time) and the result is V(AINp) − V(AINn), single-ended against GND.
/// </summary>
/// <remarks>
/// In continuous mode a new result is taken every 1/DR from the inputs at that moment. The comparator and the
/// ALERT/RDY pin are not modelled (their configuration bits and thresholds are stored and read back).
/// </remarks>
public sealed class SimulatedAds1115 : IRegisterMapChip
{
    public const byte DefaultAddress = 0x48;
    public const ushort ConfigResetValue = 0x8583;

    private static readonly double[] FullScaleVolts = [6.144, 4.096, 2.048, 1.024, 0.512, 0.256, 0.256, 0.256];
    private static readonly int[] SamplesPerSecond = [8, 16, 32, 64, 128, 250, 475, 860];

    private readonly object _gate = new();
    private readonly TimeProvider _clock;
    private readonly double[] _inputs = new double[4];
    private ushort _config = ConfigResetValue, _lowThreshold = 0x8000, _highThreshold = 0x7FFF;
    private short _conversion;
    private byte _pointer;
    private bool _converting;
    private long _conversionEndsAt;
    private short _pendingResult;
    private long _conversions;

    public SimulatedAds1115(TimeProvider? clock = null, double supplyVolts = 3.3)
    {
        if (!(supplyVolts is >= 2.0 and <= 5.5)) throw new ArgumentOutOfRangeException(nameof(supplyVolts), supplyVolts, "ADS1115 VDD is 2.0..5.5 V.");
        _clock = clock ?? TimeProvider.System;
        SupplyVolts = supplyVolts;
    }

    public string Name => "ADS1115";

    public double SupplyVolts { get; }

    /// <summary>Conversions completed so far.</summary>
    public long Conversions
    {
        get { lock (_gate) { Settle(); return _conversions; } }
    }

    /// <summary>Sets the voltage on AIN<paramref name="input"/> against GND. The part's inputs stay within GND − 0.3 V .. VDD + 0.3 V.</summary>
    public void SetInputVolts(int input, double volts)
    {
        if ((uint)input > 3) throw new ArgumentOutOfRangeException(nameof(input), input, "The ADS1115 has inputs AIN0..AIN3.");
        if (!double.IsFinite(volts) || volts < -0.3 || volts > SupplyVolts + 0.3)
            throw new ArgumentOutOfRangeException(nameof(volts), volts, $"ADS1115 inputs must stay within -0.3..{SupplyVolts + 0.3} V (VDD {SupplyVolts} V).");
        lock (_gate) _inputs[input] = volts;
    }

    public double InputVolts(int input)
    {
        lock (_gate) return _inputs[input];
    }

    /// <summary>The register at pointer 0..3 as the bus would read it now.</summary>
    public ushort Register(int pointer)
    {
        lock (_gate)
        {
            Settle();
            return Read((byte)pointer);
        }
    }

    /// <summary>Full-scale range, volts, of a PGA setting (config bits 11:9).</summary>
    public static double FullScale(int pga) => FullScaleVolts[pga & 0x07];

    /// <summary>The conversion code for a differential input voltage at a PGA setting: round(V · 32768 / FSR), clipped to the 16-bit range.</summary>
    public static short Code(double volts, int pga) =>
        (short)Math.Clamp(Math.Round(volts * 32768 / FullScaleVolts[pga & 0x07], MidpointRounding.AwayFromZero), short.MinValue, short.MaxValue);

    public void Transfer(ReadOnlySpan<byte> written, Span<byte> read)
    {
        lock (_gate)
        {
            Settle();
            if (!written.IsEmpty)
            {
                if ((written[0] & 0xFC) != 0)
                    throw new IOException($"ADS1115 did not acknowledge address pointer 0x{written[0]:X2}: bits 7:2 must be 0.");
                _pointer = written[0];
                if (written.Length >= 3) Write(_pointer, (ushort)((written[1] << 8) | written[2]));
            }
            if (read.IsEmpty) return;
            ushort value = Read(_pointer);
            read[0] = (byte)(value >> 8);
            if (read.Length > 1) read[1] = (byte)value;
            if (read.Length > 2) read[2..].Fill(0xFF);
        }
    }

    private ushort Read(byte pointer) => pointer switch
    {
        0 => (ushort)_conversion,
        1 => (ushort)((_config & 0x7FFF) | (IsIdle ? 0x8000 : 0)),
        2 => _lowThreshold,
        _ => _highThreshold,
    };

    private bool IsIdle => !_converting && (_config & 0x0100) != 0;

    private void Write(byte pointer, ushort value)
    {
        switch (pointer)
        {
            case 0:
                return; // the conversion register is read-only
            case 1:
                bool wasSingleShot = (_config & 0x0100) != 0;
                _config = (ushort)(value & 0x7FFF);
                bool singleShot = (value & 0x0100) != 0;
                if (!singleShot)
                {
                    // Continuous mode: conversions run back to back from now on.
                    if (wasSingleShot || !_converting) StartConversion();
                }
                else if ((value & 0x8000) != 0 && !_converting)
                {
                    StartConversion();
                }
                return;
            case 2:
                _lowThreshold = value;
                return;
            default:
                _highThreshold = value;
                return;
        }
    }

    private void StartConversion()
    {
        _converting = true;
        _pendingResult = Sample();
        _conversionEndsAt = _clock.GetTimestamp() + ConversionTicks();
    }

    /// <summary>Completes the conversion whose time has come; in continuous mode also those missed since the last bus access.</summary>
    private void Settle()
    {
        if (!_converting) return;
        long now = _clock.GetTimestamp();
        if (now < _conversionEndsAt) return;
        _conversion = _pendingResult;
        _conversions++;
        if ((_config & 0x0100) != 0)
        {
            _converting = false; // single-shot: back to power-down
            return;
        }
        long period = ConversionTicks();
        long missed = (now - _conversionEndsAt) / period;
        if (missed > 0)
        {
            // Conversions that ended between two bus accesses: the last of them saw the inputs as they are now.
            _conversion = Sample();
            _conversions += missed;
        }
        _conversionEndsAt += (missed + 1) * period;
        _pendingResult = Sample();
    }

    private long ConversionTicks() =>
        Math.Max(1, (long)Math.Ceiling((double)_clock.TimestampFrequency / SamplesPerSecond[(_config >> 5) & 0x07]));

    private short Sample()
    {
        int mux = (_config >> 12) & 0x07;
        (double positive, double negative) = mux switch
        {
            0 => (_inputs[0], _inputs[1]),
            1 => (_inputs[0], _inputs[3]),
            2 => (_inputs[1], _inputs[3]),
            3 => (_inputs[2], _inputs[3]),
            _ => (_inputs[mux - 4], 0.0),
        };
        return Code(positive - negative, (_config >> 9) & 0x07);
    }
}
