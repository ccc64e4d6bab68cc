using Qkd.Core.Symbols;
using Qkd.Core.TimeTags;
using Qkd.Emulation.Firmware;
using Qkd.Emulation.TimeTagging;
using Qkd.Protocol;
using Qkd.Protocol.Messages;

namespace Qkd.Emulation.Tests.Firmware;

/// <summary>
/// The whole firmware path: the host streams Alice's symbols to the emulated modulator and reads Bob's tags from the
/// emulated tagger as protocol frames; the tags equal, tag for tag, what a direct EmulatedTimeTagger gives for the same
/// seed, profile, options and symbols.
/// </summary>
public sealed class EmulatedLinkDevicesTests
{
    private const ulong Seed = 42;

    private static readonly LinkProfile Profile = LinkProfile.Default.WithDistance(5) with
    {
        ClockDriftPpm = 50,
        TimingJitterRmsPs = 100,
        DarkCountProbabilityPerPulse = 1e-5,
    };

    private static readonly EmulatedTimeTaggerOptions Wiring = new()
    {
        SyncChannel = 0,
        FirstDetectorChannel = 1,
        SyncDivider = 1000,
        SyncDelayPs = 2_500,
        SyncJitterRmsPs = 50,
        DetectorDelaysPs = [0, 1_500, 3_700, 12_345],
        DarkCountRateHz = 20_000,
    };

    private sealed class Line : IDisposable
    {
        public required EmulatedLinkDevices Devices { get; init; }
        public required FirmwareTestHost Modulator { get; init; }
        public required FirmwareTestHost Detector { get; init; }
        public required FirmwareTestHost Tagger { get; init; }

        public void Dispose()
        {
            Devices.Dispose();
            Modulator.Dispose();
            Detector.Dispose();
            Tagger.Dispose();
        }
    }

    private static Line Connect(LinkProfile profile, EmulatedTimeTaggerOptions wiring)
    {
        var devices = new EmulatedLinkDevices(profile, wiring, Seed, new ManualDeviceClock());
        (FirmwareTestHost modulator, var m) = FirmwareTestHost.Connect("modulator");
        (FirmwareTestHost detector, var d) = FirmwareTestHost.Connect("detector");
        (FirmwareTestHost tagger, var t) = FirmwareTestHost.Connect("tagger");
        devices.Modulator.Plug(m);
        devices.Detector.Plug(d);
        devices.Tagger.Plug(t);
        return new Line { Devices = devices, Modulator = modulator, Detector = detector, Tagger = tagger };
    }

    /// <summary>Sets the devices so that they imply <paramref name="profile"/> (the part the user controls) and send the default light.</summary>
    private static void Configure(Line line, LinkProfile profile, int syncDivider)
    {
        var light = DefaultLink.Light;
        line.Modulator.Set(DeviceClass.LaserModulator, ParameterId.ModulatorPulseRateHz, 0, (long)light.PulseRateHz);
        line.Modulator.Set(DeviceClass.LaserModulator, ParameterId.ModulatorIntensityMicroPhotons, 0, (long)Math.Round(light.SignalMeanPhotonNumber * 1e6));
        line.Modulator.Set(DeviceClass.LaserModulator, ParameterId.ModulatorIntensityMicroPhotons, 1, (long)Math.Round(light.DecoyMeanPhotonNumber * 1e6));
        line.Modulator.Set(DeviceClass.LaserModulator, ParameterId.ModulatorIntensityMicroPhotons, 2, (long)Math.Round(light.VacuumMeanPhotonNumber * 1e6));
        line.Modulator.Set(DeviceClass.LaserModulator, ParameterId.ModulatorSyncDivider, 0, syncDivider);
        for (byte head = 0; head < 4; head++)
        {
            line.Detector.Set(DeviceClass.SinglePhotonDetector, ParameterId.DetectorEfficiencyPpm, head, (long)Math.Round(profile.DetectorEfficiency * 1e6));
            line.Detector.Set(DeviceClass.SinglePhotonDetector, ParameterId.DetectorDeadTimePs, head, profile.DeadTimePs);
        }
    }

    private static List<TimeTag> Direct(LinkProfile profile, ISymbolSource symbols, EmulatedTimeTaggerOptions options, long endPulse)
    {
        var link = new EmulatedLink(profile, DefaultLink.Light, symbols, EmulatedLinkDevices.LinkSeed(Seed, 0));
        var tagger = new EmulatedTimeTagger(link, options with { EndPulse = endPulse }, EmulatedLinkDevices.TaggerSeed(Seed, 0));
        var tags = new List<TimeTag>();
        var buffer = new TimeTag[4096];
        int n;
        while ((n = tagger.Read(buffer, TestContext.Current.CancellationToken)) > 0) tags.AddRange(buffer.AsSpan(0, n));
        return tags;
    }

    [Fact]
    public void Session_zero_seeds_are_those_of_the_nodes_emulated_setup()
    {
        // Qkd.Node's EmulatedSetup: link SplitMix64.Mix(seed ^ 0xE3), tagger SplitMix64.Mix(seed ^ 0x7A66E5).
        Assert.Equal(Qkd.Core.Random.SplitMix64.Mix(Seed ^ 0xE3u), EmulatedLinkDevices.LinkSeed(Seed, 0));
        Assert.Equal(Qkd.Core.Random.SplitMix64.Mix(Seed ^ 0x7A66E5u), EmulatedLinkDevices.TaggerSeed(Seed, 0));
        Assert.NotEqual(EmulatedLinkDevices.LinkSeed(Seed, 0), EmulatedLinkDevices.LinkSeed(Seed, 1));
    }

    [Fact]
    public void Tags_through_the_firmware_equal_the_direct_emulated_tagger_tag_for_tag()
    {
        const long pulses = 3_000_000;
        var symbols = new SeededSymbolSource(7, DefaultLink.Alice);
        using Line line = Connect(Profile, Wiring);
        Configure(line, Profile, Wiring.SyncDivider);
        Assert.Equal(Profile, line.Devices.ImpliedProfile());
        Assert.Equal(DefaultLink.Light, line.Devices.ImpliedLight()); // the light the physics emulates is the modulator's

        Assert.False(line.Tagger.Request(DeviceClass.TimeTagger, MessageType.TaggerStartStream).Header.IsNack);
        Assert.False(line.Modulator.Request(DeviceClass.LaserModulator, MessageType.ModulatorStartEmission, ModulatorFirmwareTests.StartPayload(0)).Header.IsNack);
        // The host streams symbols from its own thread, as a driver would, and stops the emission at the end.
        var streamer = Task.Run(() =>
        {
            uint frames = ModulatorFirmwareTests.SendSymbols(line.Modulator, symbols, 0, pulses, 0);
            StreamSummary summary = StreamSummary.Read(line.Modulator.Request(DeviceClass.LaserModulator, MessageType.ModulatorStopEmission).Payload);
            Assert.Equal((ulong)pulses, summary.Items);
            Assert.Equal(frames, summary.Frames);
        }, TestContext.Current.CancellationToken);

        List<TimeTag> viaFirmware = line.Tagger.ReadStreamUntilStopped();
        streamer.Wait(TestContext.Current.CancellationToken);

        List<TimeTag> direct = Direct(Profile, symbols, Wiring, pulses);
        Assert.True(direct.Count > 50_000, $"only {direct.Count} tags");
        Assert.Equal(direct.Count, viaFirmware.Count);
        Assert.Equal(direct, viaFirmware);

        // The detector counted what its heads detected (the detection and dark tags).
        DetectorCounts counts = DetectorCounts.Read(line.Detector.Request(DeviceClass.SinglePhotonDetector, MessageType.DetectorReadCounts).Payload);
        for (int head = 0; head < 4; head++)
            Assert.Equal((ulong)direct.Count(t => t.Channel == Wiring.FirstDetectorChannel + head), counts.Counts[head]);
        StreamSummary tagger = StreamSummary.Read(line.Tagger.Request(DeviceClass.TimeTagger, MessageType.TaggerStopStream).Payload);
        Assert.Equal((ulong)direct.Count, tagger.Items);
    }

    [Fact]
    public void Same_seed_and_commands_give_the_same_tags_and_a_gap_in_the_symbols_is_vacuum()
    {
        const long pulses = 1_000_000;
        var symbols = new SeededSymbolSource(8, DefaultLink.Alice);
        List<TimeTag> Run()
        {
            using Line line = Connect(Profile, Wiring);
            Configure(line, Profile, 500);
            line.Tagger.Request(DeviceClass.TimeTagger, MessageType.TaggerStartStream);
            line.Modulator.Request(DeviceClass.LaserModulator, MessageType.ModulatorStartEmission, ModulatorFirmwareTests.StartPayload(0));
            var streamer = Task.Run(() =>
            {
                uint next = ModulatorFirmwareTests.SendSymbols(line.Modulator, symbols, 0, 400_000, 0, 100_000);
                ModulatorFirmwareTests.SendSymbols(line.Modulator, symbols, 600_000, pulses, next, 100_000);
                line.Modulator.Request(DeviceClass.LaserModulator, MessageType.ModulatorStopEmission);
            }, TestContext.Current.CancellationToken);
            List<TimeTag> tags = line.Tagger.ReadStreamUntilStopped();
            streamer.Wait(TestContext.Current.CancellationToken);
            Assert.Equal(200_000, line.Devices.Modulator.ItemsLost);
            return tags;
        }

        List<TimeTag> first = Run();
        List<TimeTag> second = Run();
        Assert.Equal(first, second);

        // The reference: the same symbols with pulses 400000..599999 replaced by vacuum.
        var gapped = new GappedSymbols(symbols, 400_000, 600_000);
        List<TimeTag> direct = Direct(Profile, gapped, Wiring with { SyncDivider = 500 }, pulses);
        Assert.Equal(direct, first);
    }

    [Fact]
    public void Emission_with_intensities_the_physics_cannot_emulate_is_refused()
    {
        using Line line = Connect(Profile, Wiring); // the modulator's default levels are all 0
        ReceivedFrame refused = line.Modulator.Request(DeviceClass.LaserModulator, MessageType.ModulatorStartEmission, ModulatorFirmwareTests.StartPayload(0));
        Assert.Equal(ErrorCode.InvalidState, refused.Nack.Code);
        Assert.Contains("MeanPhotonNumber", refused.Nack.Text);
    }

    private sealed class GappedSymbols(ISymbolSource inner, long from, long to) : ISymbolSource
    {
        public SymbolDistribution Distribution => inner.Distribution;

        public Qkd.Core.PulseSymbol SymbolAt(long pulseIndex) =>
            pulseIndex >= from && pulseIndex < to ? new Qkd.Core.PulseSymbol(Qkd.Core.Basis.Z, 0, Qkd.Core.Intensity.Vacuum) : inner.SymbolAt(pulseIndex);
    }
}
