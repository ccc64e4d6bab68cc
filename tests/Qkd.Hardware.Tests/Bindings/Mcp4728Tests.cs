using System.Device.I2c;
using CsCheck;
using Qkd.Hardware.Bindings.Mcp4728;
using Qkd.Emulation.Buses;
using Qkd.Hardware.Tests.Support;
using Qkd.Protocol;

namespace Qkd.Hardware.Tests.Bindings;

/// <summary>
/// The binding against the register-level model. Expected bytes are written out from the datasheet's command
/// formats (DS22187 section 5), not produced by the binding's own encoder.
/// </summary>
public sealed class Mcp4728Tests
{
    private const double Vdd = 5.0;

    private static (Mcp4728 Dac, SimulatedMcp4728 Chip, SimulatedI2cDevice Bus) Create(int addressBits = 0, Mcp4728ChannelSetting[]? eeprom = null, double vdd = Vdd)
    {
        var chip = new SimulatedMcp4728(addressBits, eeprom);
        var bus = new SimulatedI2cDevice(new I2cConnectionSettings(1, chip.I2cAddress), chip);
        var dac = new Mcp4728(bus, vdd);
        bus.ClearTransactions();
        return (dac, chip, bus);
    }

    private static byte[] Written(SimulatedI2cDevice bus) => Assert.Single(bus.Transactions).Written;

    [Fact]
    public void SetCode_sends_a_multi_write_block_and_the_output_follows()
    {
        var (dac, chip, bus) = Create();
        dac.SetCode(Mcp4728Channel.B, 0xABC);
        // 0 1 0 0 0 DAC1=0 DAC0=1 UDAC=0 | VREF=0 PD=00 G=0 D11..D8=1010 | D7..D0
        Assert.Equal([0x42, 0x0A, 0xBC], Written(bus));
        Assert.Equal(new Mcp4728ChannelSetting(0xABC), chip.OutputRegister(Mcp4728Channel.B));
        Assert.Equal(Vdd * 0xABC / 4096, chip.OutputVolts(Mcp4728Channel.B, Vdd), 12);
    }

    [Fact]
    public void Configure_keeps_the_code_and_encodes_reference_gain_and_power_down()
    {
        var (dac, chip, bus) = Create();
        dac.SetCode(Mcp4728Channel.C, 0x123);
        bus.ClearTransactions();
        dac.Configure(Mcp4728Channel.C, Mcp4728VoltageReference.Internal2048mV, Mcp4728Gain.Two);
        Assert.Equal([0x44, 0x91, 0x23], Written(bus));

        bus.ClearTransactions();
        dac.Configure(Mcp4728Channel.D, Mcp4728VoltageReference.Internal2048mV, Mcp4728Gain.One, Mcp4728PowerDown.Pulldown100kOhm);
        dac.SetCode(Mcp4728Channel.D, 4095);
        Assert.Equal([0x46, 0xCF, 0xFF], bus.Transactions[1].Written);
        Assert.Equal(new Mcp4728ChannelSetting(4095, Mcp4728VoltageReference.Internal2048mV, Mcp4728Gain.One, Mcp4728PowerDown.Pulldown100kOhm), chip.InputRegister(Mcp4728Channel.D));
        Assert.Equal(0, chip.OutputVolts(Mcp4728Channel.D, Vdd)); // powered down
    }

    [Fact]
    public void Select_commands_set_all_four_channels_in_one_transaction()
    {
        var (dac, chip, bus) = Create();
        dac.SelectReferences(Mcp4728VoltageReference.Internal2048mV, Mcp4728VoltageReference.Vdd, Mcp4728VoltageReference.Internal2048mV, Mcp4728VoltageReference.Vdd);
        dac.SelectGains(Mcp4728Gain.Two, Mcp4728Gain.Two, Mcp4728Gain.One, Mcp4728Gain.One);
        dac.SelectPowerDown(Mcp4728PowerDown.Normal, Mcp4728PowerDown.Pulldown1kOhm, Mcp4728PowerDown.Pulldown100kOhm, Mcp4728PowerDown.Pulldown500kOhm);

        Assert.Equal([[0x8A], [0xCC], [0xA1, 0xB0]], bus.Transactions.Select(t => t.Written));
        Assert.Equal(new Mcp4728ChannelSetting(0, Mcp4728VoltageReference.Internal2048mV, Mcp4728Gain.Two), chip.OutputRegister(Mcp4728Channel.A));
        Assert.Equal(new Mcp4728ChannelSetting(0, Mcp4728VoltageReference.Vdd, Mcp4728Gain.Two, Mcp4728PowerDown.Pulldown1kOhm), chip.OutputRegister(Mcp4728Channel.B));
        Assert.Equal(Mcp4728PowerDown.Pulldown500kOhm, chip.OutputRegister(Mcp4728Channel.D).PowerDown);
        Assert.Equal(dac.GetSetting(Mcp4728Channel.C), chip.InputRegister(Mcp4728Channel.C));
    }

    [Fact]
    public void Fast_write_carries_four_codes_and_with_LDAC_high_the_outputs_wait_for_an_LDAC_pulse()
    {
        var (dac, chip, bus) = Create();
        chip.LdacLow = false;
        dac.WriteAllCodes([0x001, 0x800, 0xFFF, 0x000]);
        Assert.Equal([0x00, 0x01, 0x08, 0x00, 0x0F, 0xFF, 0x00, 0x00], Written(bus));
        Assert.Equal(0x800, chip.InputRegister(Mcp4728Channel.B).Code);
        Assert.Equal(0, chip.OutputRegister(Mcp4728Channel.B).Code);
        chip.PulseLdac();
        Assert.Equal(0xFFF, chip.OutputRegister(Mcp4728Channel.C).Code);

        // Multi-Write with UDAC = 0 updates VOUT even with LDAC high.
        dac.SetCode(Mcp4728Channel.A, 7);
        Assert.Equal(7, chip.OutputRegister(Mcp4728Channel.A).Code);
    }

    [Fact]
    public void StoreToEeprom_sends_a_single_write_then_polls_RDY_until_the_write_is_done()
    {
        var (dac, chip, bus) = Create();
        chip.EepromBusyReads = 3;
        dac.Configure(Mcp4728Channel.A, Mcp4728VoltageReference.Internal2048mV, Mcp4728Gain.One);
        dac.SetCode(Mcp4728Channel.A, 0x234);
        bus.ClearTransactions();
        dac.StoreToEeprom(Mcp4728Channel.A);

        var transactions = bus.Transactions;
        Assert.Equal([0x58, 0x82, 0x34], transactions[0].Written);
        Assert.Equal(4, transactions.Count - 1); // three busy reads, one ready read
        Assert.All(transactions.Skip(1), t => Assert.Equal(24, t.Read.Length));
        Assert.Equal(0x00, transactions[1].Read[0] & 0x80); // RDY/BSY = 0 while busy
        Assert.Equal(0x80, transactions[^1].Read[0] & 0x80);

        chip.PowerOnReset(); // the setting survives a power cycle
        Assert.Equal(new Mcp4728ChannelSetting(0x234, Mcp4728VoltageReference.Internal2048mV), chip.OutputRegister(Mcp4728Channel.A));
    }

    [Fact]
    public void StoreAllToEeprom_is_one_sequential_write_from_channel_A()
    {
        var (dac, chip, bus) = Create();
        chip.EepromBusyReads = 0;
        dac.WriteAllCodes([0x111, 0x222, 0x333, 0x444]);
        bus.ClearTransactions();
        dac.StoreAllToEeprom();
        Assert.Equal([0x50, 0x01, 0x11, 0x02, 0x22, 0x03, 0x33, 0x04, 0x44], bus.Transactions[0].Written);
        Assert.Equal(0x444, chip.Eeprom(Mcp4728Channel.D).Code);
    }

    [Fact]
    public void An_EEPROM_that_stays_busy_gives_a_typed_timeout_naming_device_and_operation()
    {
        var (dac, chip, _) = Create();
        chip.EepromBusyReads = int.MaxValue;
        dac.EepromWriteTimeout = TimeSpan.FromMilliseconds(5);
        var ex = Assert.Throws<DeviceTimeoutException>(() => dac.StoreToEeprom(Mcp4728Channel.C));
        Assert.Equal("MCP4728 DAC (I2C bus 1, address 0x60)", ex.Device);
        Assert.Contains("store channel C in EEPROM", ex.Operation);
    }

    [Fact]
    public void Readback_rows_follow_the_datasheet_layout()
    {
        var eeprom = new[]
        {
            new Mcp4728ChannelSetting(0x000),
            new Mcp4728ChannelSetting(0x5A5, Mcp4728VoltageReference.Internal2048mV, Mcp4728Gain.Two),
            new Mcp4728ChannelSetting(0xFFF, PowerDown: Mcp4728PowerDown.Pulldown500kOhm),
            new Mcp4728ChannelSetting(0x001),
        };
        var (dac, chip, bus) = Create(addressBits: 5, eeprom);
        dac.SetCode(Mcp4728Channel.B, 0x0F0);
        bus.ClearTransactions();
        var readback = dac.ReadBack();

        byte[] raw = Assert.Single(bus.Transactions).Read;
        // Channel B: input row  RDY=1 POR=1 DAC=01 0 A=101 | VREF=1 PD=00 G=1 D11..8=0000 | 0xF0
        //            EEPROM row same header             | VREF=1 PD=00 G=1 D11..8=0101 | 0xA5
        Assert.Equal([0xD5, 0x90, 0xF0, 0xD5, 0x95, 0xA5], raw[6..12]);
        // Channel C: 0xFFF, VDD reference, 500 kOhm power-down
        Assert.Equal([0xE5, 0x6F, 0xFF, 0xE5, 0x6F, 0xFF], raw[12..18]);

        Assert.Equal(new Mcp4728RegisterReadback(Mcp4728Channel.B, true, true, 5, eeprom[1] with { Code = 0x0F0 }), readback[Mcp4728Channel.B]);
        Assert.Equal(eeprom, readback.Eeprom.Select(r => r.Setting));
        Assert.True(readback.Ready);
    }

    [Fact]
    public void The_binding_adopts_the_settings_the_chip_powered_up_with()
    {
        var eeprom = new[] { new Mcp4728ChannelSetting(100, Mcp4728VoltageReference.Internal2048mV, Mcp4728Gain.Two), default, default, default };
        var (dac, _, _) = Create(eeprom: eeprom);
        Assert.Equal(eeprom[0], dac.GetSetting(Mcp4728Channel.A));
        Assert.Equal(4.096, dac.FullScaleVolts(Mcp4728Channel.A), 12);
        Assert.Equal(0.001, dac.LsbVolts(Mcp4728Channel.A), 12);
    }

    [Fact]
    public void SetVoltage_reaches_the_pin_within_half_an_LSB()
    {
        var (dac, chip, _) = Create();
        dac.Configure(Mcp4728Channel.A, Mcp4728VoltageReference.Internal2048mV, Mcp4728Gain.One);
        int code = dac.SetVoltage(Mcp4728Channel.A, 1.2345);
        Assert.Equal(2469, code); // 1.2345 V / 0.5 mV
        Assert.InRange(chip.OutputVolts(Mcp4728Channel.A, Vdd), 1.2345 - 0.00025, 1.2345 + 0.00025);
    }

    [Fact]
    public void Property_voltage_round_trip_is_within_one_LSB_and_code_round_trip_is_exact()
    {
        var setups = Gen.Select(Gen.Enum<Mcp4728VoltageReference>(), Gen.Enum<Mcp4728Gain>(), Gen.Double[2.7, 5.5]);
        Gen.Select(setups, Gen.Double[0, 1], Gen.Int[0, 4095]).Sample((setup, fraction, code) =>
        {
            var (reference, gain, vdd) = setup;
            var (dac, _, _) = Create(vdd: vdd);
            dac.Configure(Mcp4728Channel.B, reference, gain);
            double lsb = dac.LsbVolts(Mcp4728Channel.B);
            double volts = fraction * dac.MaxVolts(Mcp4728Channel.B);
            int c = dac.VoltsToCode(Mcp4728Channel.B, volts);
            Assert.InRange(dac.CodeToVolts(Mcp4728Channel.B, c), volts - lsb, volts + lsb);
            if (code * lsb <= dac.MaxVolts(Mcp4728Channel.B))
                Assert.Equal(code, dac.VoltsToCode(Mcp4728Channel.B, dac.CodeToVolts(Mcp4728Channel.B, code)));
        }, iter: 500, seed: "0N0XIzNsQ0O2");
    }

    [Theory]
    [InlineData(-0.1)]
    [InlineData(2.1)]
    [InlineData(double.NaN)]
    public void Out_of_range_voltages_name_the_channel_and_the_value(double volts)
    {
        var (dac, _, bus) = Create();
        dac.Configure(Mcp4728Channel.C, Mcp4728VoltageReference.Internal2048mV, Mcp4728Gain.One);
        bus.ClearTransactions();
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => dac.SetVoltage(Mcp4728Channel.C, volts));
        Assert.Contains("channel C", ex.Message);
        Assert.Contains($"{volts} V", ex.Message);
        Assert.Contains("internal 2.048 V reference, gain x1", ex.Message);
        Assert.Empty(bus.Transactions); // nothing reached the chip
    }

    [Fact]
    public void Gain_two_on_a_low_supply_is_limited_by_VDD()
    {
        var (dac, _, _) = Create(vdd: 3.3);
        dac.Configure(Mcp4728Channel.A, Mcp4728VoltageReference.Internal2048mV, Mcp4728Gain.Two);
        Assert.Equal(3.3, dac.MaxVolts(Mcp4728Channel.A));
        Assert.Equal(3300, dac.SetVoltage(Mcp4728Channel.A, 3.3));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => dac.SetVoltage(Mcp4728Channel.A, 3.4));
        Assert.Contains("VDD 3.3 V", ex.Message);
    }

    [Fact]
    public void Out_of_range_codes_and_channels_are_refused_with_their_values()
    {
        var (dac, _, _) = Create();
        var code = Assert.Throws<ArgumentOutOfRangeException>(() => dac.SetCode(Mcp4728Channel.D, 4096));
        Assert.Contains("channel D: code 4096", code.Message);
        var channel = Assert.Throws<ArgumentOutOfRangeException>(() => dac.SetCode((Mcp4728Channel)4, 1));
        Assert.Contains("channel 4", channel.Message);
        Assert.Throws<ArgumentException>(() => dac.WriteAllCodes([1, 2, 3]));
    }

    [Fact]
    public void A_disconnected_chip_gives_a_device_exception_naming_device_and_operation()
    {
        var (dac, _, bus) = Create();
        bus.Disconnected = true;
        var ex = Assert.Throws<DeviceException>(() => dac.SetCode(Mcp4728Channel.A, 10));
        Assert.Equal(dac.Description, ex.Device);
        Assert.Equal("set channel A to code 10", ex.Operation);
        Assert.IsType<IOException>(ex.InnerException);
        Assert.Equal(0, dac.GetSetting(Mcp4728Channel.A).Code); // the cache did not move
    }
}
