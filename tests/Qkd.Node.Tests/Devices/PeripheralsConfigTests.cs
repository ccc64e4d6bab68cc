using Qkd.Hardware.Peripherals;
using Qkd.Node.Devices;

namespace Qkd.Node.Tests.Devices;

/// <summary>The "peripherals" and "gpio" sections of a device bench: parsed from JSON, every bad value named by its path.</summary>
public sealed class PeripheralsConfigTests
{
    private const string Devices = """
        "modulator": { "serialPort": "/dev/ttyACM0" }, "detector": { "serialPort": "/dev/ttyACM1" }, "tagger": { "usbSerialNumber": "TT-1" }
        """;

    [Fact]
    public void A_bench_with_peripherals_and_gpio_parses()
    {
        var bench = DeviceBench.Parse($$"""
            { {{Devices}},
              "gpio": { "interlock": { "chip": 1, "line": 5, "closedLevel": "high", "bias": "pullDown", "debounceMs": 20 },
                        "gateEnable": { "chip": 0, "line": 12, "activeLevel": "low" } },
              "peripherals": {
                "pollIntervalMs": 50,
                "biasDac": { "spiBus": 0, "chipSelect": 1, "channel": 2, "referenceVolts": 2.048, "biasVolts": 1.0 },
                "temperatureSensor": { "i2cBus": 1, "address": 25 },
                "monitorAdc": { "i2cBus": 1, "address": 72, "channel": 0, "fullScaleVolts": 1.024, "dataRateSps": 475, "alarmThresholdVolts": 0.2 } } }
            """);
        Assert.Equal(new InterlockLineConfig { Chip = 1, Line = 5, ClosedLevel = GpioLineLevel.High, Bias = GpioLineBias.PullDown, DebounceMs = 20 }, bench.Gpio!.Interlock);
        Assert.Equal(20_000_000, bench.Gpio.Interlock!.DebounceNs);
        Assert.Equal(GpioLineLevel.Low, bench.Gpio.GateEnable!.ActiveLevel);
        Assert.Equal(50, bench.Peripherals!.PollIntervalMs);
        Assert.Equal(new BiasDacConfig { SpiBus = 0, ChipSelect = 1, Channel = 2, ReferenceVolts = 2.048, BiasVolts = 1.0 }, bench.Peripherals.BiasDac);
        Assert.Equal(25, bench.Peripherals.TemperatureSensor!.Address);
        Assert.Equal(0.2, bench.Peripherals.MonitorAdc!.EffectiveClearVolts);
        Assert.Equal(475, bench.Peripherals.MonitorAdc.DataRateSps);
    }

    [Fact]
    public void Both_sections_are_optional()
    {
        var bench = DeviceBench.Parse($$"""{ {{Devices}} }""");
        Assert.Null(bench.Gpio);
        Assert.Null(bench.Peripherals);
    }

    [Theory]
    [InlineData("""{ "peripherals": { "pollIntervalMs": 5 } }""", "peripherals.pollIntervalMs 5 is outside 10..60000")]
    [InlineData("""{ "peripherals": { "biasDac": { "channel": 8 } } }""", "peripherals.biasDac.channel 8 is outside 0..7 (AD5328 DACs A..H)")]
    [InlineData("""{ "peripherals": { "biasDac": { "chipSelect": -1 } } }""", "peripherals.biasDac.chipSelect -1 must not be negative")]
    [InlineData("""{ "peripherals": { "biasDac": { "referenceVolts": 6 } } }""", "peripherals.biasDac.referenceVolts 6 is outside (0, 5.5]")]
    [InlineData("""{ "peripherals": { "biasDac": { "biasVolts": 2.5 } } }""", "peripherals.biasDac.biasVolts 2.5 is outside 0..2.49939 (the DAC's range at referenceVolts 2.5)")]
    [InlineData("""{ "peripherals": { "biasDac": { "clockHz": 40000000 } } }""", "peripherals.biasDac.clockHz 40000000 is outside 1000..30000000")]
    [InlineData("""{ "peripherals": { "temperatureSensor": { "address": 72 } } }""", "peripherals.temperatureSensor.address 72 (0x48) is outside the MCP9808's 0x18..0x1F (24..31)")]
    [InlineData("""{ "peripherals": { "temperatureSensor": { "i2cBus": -2 } } }""", "peripherals.temperatureSensor.i2cBus -2 must not be negative")]
    [InlineData("""{ "peripherals": { "monitorAdc": { "address": 24, "alarmThresholdVolts": 1 } } }""", "peripherals.monitorAdc.address 24 (0x18) is outside the ADS1115's 0x48..0x4B (72..75)")]
    [InlineData("""{ "peripherals": { "monitorAdc": { "channel": 4, "alarmThresholdVolts": 1 } } }""", "peripherals.monitorAdc.channel 4 is outside 0..3 (AIN0..AIN3)")]
    [InlineData("""{ "peripherals": { "monitorAdc": { "fullScaleVolts": 5, "alarmThresholdVolts": 1 } } }""", "peripherals.monitorAdc.fullScaleVolts 5 is not one of 6.144, 4.096, 2.048, 1.024, 0.512, 0.256")]
    [InlineData("""{ "peripherals": { "monitorAdc": { "dataRateSps": 8, "alarmThresholdVolts": 1 } } }""", "peripherals.monitorAdc.dataRateSps 8 is not one of 128, 250, 475, 860")]
    [InlineData("""{ "peripherals": { "monitorAdc": { } } }""", "peripherals.monitorAdc.alarmThresholdVolts 0 is outside (0, 4.096) (it must be set, and below full scale so a saturated input still trips it)")]
    [InlineData("""{ "peripherals": { "monitorAdc": { "alarmThresholdVolts": 1, "alarmClearVolts": 1.5 } } }""", "peripherals.monitorAdc.alarmClearVolts 1.5 is outside 0..1 (alarmThresholdVolts)")]
    [InlineData("""{ "peripherals": { "temperatureSensor": { "address": 24 }, "monitorAdc": { "i2cBus": 0, "address": 72, "alarmThresholdVolts": 1 } } }""", null)]
    [InlineData("""{ "gpio": { "interlock": { "line": -1 } } }""", "gpio.interlock.line -1 must not be negative")]
    [InlineData("""{ "gpio": { "interlock": { "chip": -1 } } }""", "gpio.interlock.chip -1 must not be negative")]
    [InlineData("""{ "gpio": { "interlock": { "debounceMs": 2000 } } }""", "gpio.interlock.debounceMs 2000 is outside 0..1000")]
    [InlineData("""{ "gpio": { "interlock": { "closedLevel": 7 } } }""", "gpio.interlock.closedLevel 7 is not \"low\" or \"high\"")]
    [InlineData("""{ "gpio": { "gateEnable": { "line": -3 } } }""", "gpio.gateEnable.line -3 must not be negative")]
    [InlineData("""{ "gpio": { "interlock": { "chip": 2, "line": 4 }, "gateEnable": { "chip": 2, "line": 4 } } }""", "gpio.gateEnable.line 4 is also gpio.interlock.line on GPIO chip 2")]
    [InlineData("""{ "gpio": { "interlock": { "chip": 2, "line": 4 }, "gateEnable": { "chip": 3, "line": 4 } } }""", null)]
    public void Each_bad_value_is_named_by_its_path(string sections, string? expected)
    {
        string json = $$"""{ {{Devices}}, {{sections.Trim()[1..^1]}} }""";
        if (expected is null)
        {
            DeviceBench.Parse(json);
            return;
        }
        Assert.Equal(expected, Assert.Throws<InvalidDataException>(() => DeviceBench.Parse(json)).Message);
    }

    [Fact]
    public void An_unknown_field_is_refused()
    {
        var ex = Assert.Throws<InvalidDataException>(() => DeviceBench.Parse($$"""{ {{Devices}}, "peripherals": { "dac": { } } }"""));
        Assert.Contains("dac", ex.Message);
    }
}
