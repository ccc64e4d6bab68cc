using Qkd.Core;
using Qkd.Core.Symbols;
using Qkd.Emulation.Firmware;
using Qkd.Emulation.Hosting;
using Qkd.Hardware.Modulator;
using Qkd.Protocol;
using Qkd.Protocol.Messages;
using Qkd.Hardware.Devices;

namespace Qkd.Hardware.Tests.Drivers;

/// <summary>The modulator driver against the emulated modulator firmware: settings, and the symbol stream.</summary>
public sealed class ModulatorDriverTests : IDisposable
{
    private readonly EmulatedLaserModulatorFirmware _firmware = new("MOD-0003");
    private readonly EmulatedDeviceConnector _connector;
    private readonly ProtocolLaserModulator _modulator;

    public ModulatorDriverTests()
    {
        _connector = new EmulatedDeviceConnector(_firmware, EmulatedDeviceTransport.InProcess);
        _modulator = new ProtocolLaserModulator(_connector, new DeviceConnectionOptions { ReplyTimeout = TimeSpan.FromSeconds(2) });
        _modulator.Connect();
    }

    public void Dispose()
    {
        _modulator.Dispose();
        _connector.Dispose();
        _firmware.Dispose();
    }

    [Fact]
    public void Settings_reach_the_device()
    {
        _modulator.SetPulseRateHz(1_250_000_000);
        _modulator.SetMeanPhotonNumber(Intensity.Decoy, 0.15);
        _modulator.SetSyncDivider(2048);
        Assert.Equal(1_250_000_000, _firmware.PulseRateHz);
        Assert.Equal(150_000, _firmware.IntensityMicroPhotons(1));
        Assert.Equal(0.15, _modulator.GetMeanPhotonNumber(Intensity.Decoy), 6);
        Assert.Equal(2048, _firmware.SyncDivider);
        Assert.Throws<ArgumentOutOfRangeException>(() => _modulator.SetSyncDivider(0));
    }

    [Fact]
    public void The_device_emits_exactly_the_symbols_the_host_streamed()
    {
        var symbols = new SeededSymbolSource(99, new SymbolDistribution(0.75, [0.65, 0.25, 0.10]));
        const long pulses = 1_000_001; // odd, and several frames
        ModulatorSymbolFifo? fifo = null;
        _firmware.EmissionStarted += f => fifo = f;
        _modulator.StartEmission(symbols, 0, pulses);
        Assert.NotNull(fifo);

        // The physics reads sparsely and in increasing order, as the link's click sampler does.
        var reader = Task.Run(() =>
        {
            int mismatches = 0;
            for (long p = 0; p < pulses; p += 1 + p % 97)
                if (fifo!.SymbolAt(p) != symbols.SymbolAt(p)) mismatches++;
            return mismatches;
        }, TestContext.Current.CancellationToken);
        Assert.True(_modulator.StreamingCompletion.Wait(TimeSpan.FromSeconds(60)));
        Assert.True(reader.Wait(TimeSpan.FromSeconds(60)));
        Assert.Equal(0, reader.Result);
        StreamSummary summary = _modulator.StopEmission();
        Assert.Equal(pulses, _modulator.SymbolsStreamed);
        Assert.True(summary.Frames >= pulses / ProtocolLaserModulator.SymbolsPerFrame);
        Assert.Equal(0, _firmware.ItemsLost);
    }

    [Fact]
    public void Emission_is_refused_while_the_interlock_is_open()
    {
        _firmware.OpenInterlock();
        var e = Assert.Throws<DeviceNackException>(() =>
            _modulator.StartEmission(new SeededSymbolSource(1, new SymbolDistribution(0.5, [1.0, 0, 0])), 0, 1000));
        Assert.Equal(ErrorCode.InterlockOpen, e.Code);
    }

    [Fact]
    public void Losing_the_bias_lock_is_seen_by_the_driver()
    {
        Assert.True(_modulator.BiasLocked);
        _firmware.LoseBiasLock();
        Assert.True(SpinWait.SpinUntil(() => !_modulator.BiasLocked, TimeSpan.FromSeconds(5)));
        Assert.False((_modulator.GetStatus().Flags & StatusFlags.BiasLocked) != 0);
    }
}
