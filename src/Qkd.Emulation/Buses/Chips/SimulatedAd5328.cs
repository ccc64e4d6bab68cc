namespace Qkd.Emulation.Buses.Chips;

/// <summary>
/// Register-level model of the Analog Devices AD5328 (octal 12-bit voltage-output DAC, 3-wire SPI, no readback) for
/// <see cref="SimulatedSpiDevice"/>. Each SYNC frame carries one 16-bit word, MSB first:
/// <list type="bullet">
/// <item>D15 = 0: a DAC write. D14..D12 pick DAC A..H, D11..D0 the code, loaded into that DAC's input register.</item>
/// <item>D15 = 1: a control word. D14:D13 = 00 gain and reference buffer (D0/D1 GAIN of A–D/E–H, D2/D3 BUF,
/// D4/D5 VDD as reference); 01 LDAC mode (D1:D0 00 continuous, 01 latched, 10 one update now, 11 reserved);
/// 10 power-down (D7..D0 = H..A); 11 reset (D12 = 0: DAC data only, 1: data and control).</item>
/// </list>
/// A DAC register follows its input register while LDAC is low: the LDAC pin (<see cref="LdacPinLow"/>, tied low on
/// most boards) or the software mode "LDAC low"; <see cref="PulseLdac"/> plays a pulse on the pin. VOUT = VREF × D /
/// 4096 × gain (gain 1 or 2), 0 V on a powered-down channel. Power-on reset: every register 0, gain 1, unbuffered,
/// LDAC mode "continuous". A frame shorter than 16 bits is ignored (SYNC rose early); bits after the 16th are ignored.
/// </summary>
/// <remarks>
/// Where the datasheet leaves a choice to the board (the reference pins, the LDAC pin) the model takes it as a
/// property. The reserved LDAC mode 11 is ignored, like any word the part would not act on. Words are counted in
/// <see cref="Words"/> so a test can see exactly what a binding sent.
/// </remarks>
public sealed class SimulatedAd5328 : IRegisterMapChip
{
    public const int ChannelCount = 8;
    public const int MaxCode = 4095;

    private readonly object _gate = new();
    private readonly ushort[] _input = new ushort[ChannelCount];
    private readonly ushort[] _dac = new ushort[ChannelCount];
    private readonly List<ushort> _words = [];
    private byte _powerDown;
    private byte _gain, _buffered, _vddReference; // bit 0: group A–D, bit 1: group E–H
    private Ad5328LdacMode _ldacMode;
    private bool _ldacPinLow = true;

    /// <param name="referenceVoltsAtoD">Voltage on the VREFIN pin of DACs A–D.</param>
    /// <param name="referenceVoltsEtoH">Voltage on the VREFIN pin of DACs E–H.</param>
    /// <param name="supplyVolts">VDD (2.5..5.5 V): used when a group takes VDD as its reference, and the outputs' ceiling.</param>
    public SimulatedAd5328(double referenceVoltsAtoD = 2.5, double referenceVoltsEtoH = 2.5, double supplyVolts = 5.0)
    {
        if (!(supplyVolts is >= 2.5 and <= 5.5)) throw new ArgumentOutOfRangeException(nameof(supplyVolts), supplyVolts, "AD5328 VDD is 2.5..5.5 V.");
        if (!(referenceVoltsAtoD > 0 && referenceVoltsAtoD <= supplyVolts)) throw new ArgumentOutOfRangeException(nameof(referenceVoltsAtoD), referenceVoltsAtoD, "VREF must be within (0, VDD].");
        if (!(referenceVoltsEtoH > 0 && referenceVoltsEtoH <= supplyVolts)) throw new ArgumentOutOfRangeException(nameof(referenceVoltsEtoH), referenceVoltsEtoH, "VREF must be within (0, VDD].");
        ReferenceVoltsAtoD = referenceVoltsAtoD;
        ReferenceVoltsEtoH = referenceVoltsEtoH;
        SupplyVolts = supplyVolts;
    }

    public string Name => "AD5328";

    public double ReferenceVoltsAtoD { get; }
    public double ReferenceVoltsEtoH { get; }
    public double SupplyVolts { get; }

    /// <summary>The LDAC pin is held low (the usual wiring when nothing needs simultaneous updates): DAC registers follow their inputs.</summary>
    public bool LdacPinLow
    {
        get { lock (_gate) return _ldacPinLow; }
        set
        {
            lock (_gate)
            {
                _ldacPinLow = value;
                if (value) TransferAll();
            }
        }
    }

    /// <summary>Every complete 16-bit word received, in order.</summary>
    public IReadOnlyList<ushort> Words
    {
        get { lock (_gate) return _words.ToArray(); }
    }

    public Ad5328LdacMode LdacMode
    {
        get { lock (_gate) return _ldacMode; }
    }

    /// <summary>A low pulse on the LDAC pin: every DAC register takes its input register.</summary>
    public void PulseLdac()
    {
        lock (_gate) TransferAll();
    }

    public ushort InputCode(int channel)
    {
        CheckChannel(channel);
        lock (_gate) return _input[channel];
    }

    /// <summary>The code the channel's resistor string is set to now (its DAC register).</summary>
    public ushort OutputCode(int channel)
    {
        CheckChannel(channel);
        lock (_gate) return _dac[channel];
    }

    /// <summary>Whether the channel's group has its reference input buffered (BUF bit).</summary>
    public bool IsReferenceBuffered(int channel)
    {
        CheckChannel(channel);
        lock (_gate) return (_buffered & GroupBit(channel)) != 0;
    }

    public bool IsPoweredDown(int channel)
    {
        CheckChannel(channel);
        lock (_gate) return (_powerDown & (1 << channel)) != 0;
    }

    /// <summary>The gain (1 or 2) of the channel's group.</summary>
    public int Gain(int channel)
    {
        CheckChannel(channel);
        lock (_gate) return (_gain & GroupBit(channel)) != 0 ? 2 : 1;
    }

    /// <summary>VOUT of the channel: VREF × D / 4096 × gain, limited to VDD (rail-to-rail output), 0 V when powered down.</summary>
    public double OutputVolts(int channel)
    {
        CheckChannel(channel);
        lock (_gate)
        {
            if ((_powerDown & (1 << channel)) != 0) return 0.0;
            int group = GroupBit(channel);
            double reference = (_vddReference & group) != 0 ? SupplyVolts : channel < 4 ? ReferenceVoltsAtoD : ReferenceVoltsEtoH;
            int gain = (_gain & group) != 0 ? 2 : 1;
            return Math.Min(reference * _dac[channel] / (MaxCode + 1) * gain, SupplyVolts);
        }
    }

    public void Transfer(ReadOnlySpan<byte> written, Span<byte> read)
    {
        // The part has no data output: MISO is not driven and reads as the idle line, all ones.
        read.Fill(0xFF);
        if (written.Length < 2) return; // SYNC rose before the 16th SCLK edge: the word is discarded.
        ushort word = (ushort)((written[0] << 8) | written[1]);
        lock (_gate)
        {
            _words.Add(word);
            if ((word & 0x8000) == 0) WriteDac(word);
            else Control(word);
        }
    }

    private void WriteDac(ushort word)
    {
        int channel = (word >> 12) & 0x07;
        _input[channel] = (ushort)(word & 0x0FFF);
        if (_ldacPinLow || _ldacMode == Ad5328LdacMode.Continuous) _dac[channel] = _input[channel];
    }

    private void Control(ushort word)
    {
        switch ((word >> 13) & 0x03)
        {
            case 0b00:
                _gain = (byte)(word & 0x03);
                _buffered = (byte)((word >> 2) & 0x03);
                _vddReference = (byte)((word >> 4) & 0x03);
                break;
            case 0b01:
                switch (word & 0x03)
                {
                    case 0b00: _ldacMode = Ad5328LdacMode.Continuous; TransferAll(); break;
                    case 0b01: _ldacMode = Ad5328LdacMode.Latched; break;
                    case 0b10: TransferAll(); break; // one update; the mode stays as it was
                    default: break;                  // reserved
                }
                break;
            case 0b10:
                _powerDown = (byte)word;
                break;
            default:
                Array.Clear(_input);
                Array.Clear(_dac);
                if ((word & 0x1000) != 0)
                {
                    _gain = _buffered = _vddReference = _powerDown = 0;
                    _ldacMode = Ad5328LdacMode.Continuous;
                }
                break;
        }
    }

    private void TransferAll() => Array.Copy(_input, _dac, ChannelCount);

    private static int GroupBit(int channel) => channel < 4 ? 1 : 2;

    private static void CheckChannel(int channel)
    {
        if ((uint)channel >= ChannelCount)
            throw new ArgumentOutOfRangeException(nameof(channel), channel, "The AD5328 has DACs 0..7 (A..H).");
    }
}
