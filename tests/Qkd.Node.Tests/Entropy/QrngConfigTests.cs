using Microsoft.Extensions.Logging.Abstractions;
using Qkd.Core.Random;
using Qkd.Node.Devices;
using Qkd.Node.Entropy;
using Qkd.Node.Link;
using Qkd.Node.Service;

namespace Qkd.Node.Tests.Entropy;

/// <summary>Where a node's QRNG is configured: devices.randomNumberGenerator, or the emulator's in-process QRNG.</summary>
public sealed class QrngConfigTests
{
    private const string Devices = """
        "modulator": { "usbSerialNumber": "MOD-0001" },
        "detector": { "serialPort": "/dev/qkd/detector-SPD-0001-tty" },
        "tagger": { "usbSerialNumber": "TT-0042" }
        """;

    [Fact]
    public void A_bench_may_name_a_QRNG_and_a_bad_address_is_an_error_naming_it()
    {
        Assert.Null(DeviceBench.Parse($$"""{ {{Devices}} }""").RandomNumberGenerator);
        var bench = DeviceBench.Parse($$"""{ {{Devices}}, "randomNumberGenerator": { "usbSerialNumber": "QRNG-0005" } }""");
        Assert.Equal("QRNG-0005", bench.RandomNumberGenerator?.UsbSerialNumber);
        Assert.Contains("QRNG-0005", bench.ToJson());
        var e = Assert.Throws<InvalidDataException>(() => DeviceBench.Parse($$"""{ {{Devices}}, "randomNumberGenerator": { } }"""));
        Assert.Contains("random number generator", e.Message);
    }

    private static string WriteConfig(string emulatorExtra)
    {
        string dir = Directory.CreateTempSubdirectory("qkd-qrng-config").FullName;
        string path = Path.Combine(dir, "alice.json");
        File.WriteAllText(path, $$"""
            {
              "role": "alice",
              "linkId": "qrng-config",
              "keyPool": { "database": "keys.db", "operatorKeyFile": "operator.key" },
              "classicalChannel": { "endpoint": "127.0.0.1:7001", "preSharedSecretFile": "pre-shared.secret" },
              "emulator": { "fibre": "127.0.0.1:7002" {{emulatorExtra}} }
            }
            """);
        return path;
    }

    [Fact]
    public void The_emulator_section_reads_an_emulated_QRNG_with_its_fault_knobs_and_checks_them()
    {
        Assert.Null(NodeConfig.Load(WriteConfig("")).Emulator.RandomNumberGenerator);
        Assert.Equal(new EmulatedQrngConfig(), NodeConfig.Load(WriteConfig(""", "randomNumberGenerator": { }""")).Emulator.RandomNumberGenerator);
        var biased = NodeConfig.Load(WriteConfig(""", "randomNumberGenerator": { "fault": "biased", "probabilityOfOne": 0.7 }""")).Emulator.RandomNumberGenerator;
        Assert.Equal(new EmulatedQrngConfig("biased", 0.7), biased);
        var e = Assert.Throws<InvalidDataException>(() => NodeConfig.Load(WriteConfig(""", "randomNumberGenerator": { "fault": "melted" }""")));
        Assert.Contains("emulator.randomNumberGenerator.fault", e.Message);
        e = Assert.Throws<InvalidDataException>(() => NodeConfig.Load(WriteConfig(""", "randomNumberGenerator": { "probabilityOfOne": 1.5 }""")));
        Assert.Contains("probabilityOfOne", e.Message);
    }

    [Fact(Timeout = 120_000)]
    public async Task The_emulated_QRNG_keys_symbols_and_a_stuck_one_never_lets_a_session_start()
    {
        var ct = TestContext.Current.CancellationToken;
        using (var good = NodeQrng.OpenEmulated(new EmulatedQrngConfig(), seed: 7, NullLogger.Instance))
        {
            await good.WaitUntilHealthyAsync(ct);
            using var choices = ChoiceSources.For(LinkSettings.Default, null, good);
            choices.Symbols.FillPacked(0, new byte[64]);
            Assert.Equal(4, good.Draws);
        }

        using var stuck = NodeQrng.OpenEmulated(new EmulatedQrngConfig("stuck"), seed: 7, NullLogger.Instance);
        // The device's own tests catch it before anything is sent: its failure flags make the driver report Failed.
        await stuck.Device.WaitForHealthAsync(EntropyHealthState.Failed, ct);
        Assert.False(stuck.IsHealthy);
        var e = Assert.Throws<EntropySourceUnavailableException>(() => ChoiceSources.For(LinkSettings.Default, null, stuck));
        Assert.Contains("QRNG-EMU-0001", e.Message);
        Assert.False(stuck.WaitUntilHealthyAsync(ct).IsCompleted);
    }
}
