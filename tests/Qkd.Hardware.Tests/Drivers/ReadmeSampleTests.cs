using System.Runtime.CompilerServices;
using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Core.TimeTags;
using Qkd.Emulation;
using Qkd.Emulation.Firmware;
using Qkd.Emulation.Hosting;
using Qkd.Emulation.TimeTagging;
using Qkd.Hardware.Detector;
using Qkd.Hardware.Devices;
using Qkd.Hardware.Modulator;
using Qkd.Hardware.RandomNumberGenerator;
using Qkd.Hardware.TimeTagger;
using Qkd.Hardware.Transport.Serial;
using Qkd.Protocol;
using Qkd.Protocol.Messages;
using Qkd.Protocol.Transport;

namespace Qkd.Hardware.Tests.Drivers;

/// <summary>
/// The usage samples of the Qkd.Hardware READMEs, run against the emulated firmware. Between the markers
/// <c>// sample: &lt;README&gt;</c> and <c>// end of sample</c> each test holds that README's snippet verbatim (indentation
/// aside, and the README's using directives are at the top of this file); the assertions after the marker check what the
/// snippet's comments promise. KEEP THE TWO IN SYNC: edit the README and this file together.
/// <see cref="Readme_sample_is_the_code_its_test_runs"/> fails when they differ.
/// </summary>
/// <remarks>
/// No test waits on time: they wait for completions (a task, an event, the end of a stream). The samples bound those
/// waits with a cancellation token, so a broken driver fails the test instead of hanging the run.
/// </remarks>
public sealed class ReadmeSampleTests
{
    [Fact]
    public void Detector_sample()
    {
        // sample: src/Qkd.Hardware/Detector/README.md
        using var firmware = new EmulatedSinglePhotonDetectorFirmware("SPD-0007", heads: 4);
        using var cable = new EmulatedDeviceConnector(firmware, EmulatedDeviceTransport.InProcess);
        using var detector = new ProtocolSinglePhotonDetector(cable);
        detector.Connect();                               // Identify: class, protocol version, serial number
        detector.SetGated(true);                          // DetectorGateMode = 1
        for (int head = 0; head < detector.Heads; head++)
        {
            detector.SetEfficiency(head, 0.20);           // DetectorEfficiencyPpm = 200 000
            detector.SetGateWidthPs(head, 2_000);         // DetectorGateWidthPs
            detector.SetDeadTimePs(head, 10_000_000);     // DetectorDeadTimePs: 10 µs
            detector.SetBiasEnabled(head, true);          // DetectorBiasEnabled
        }
        detector.ReadCounts();                            // starts a fresh counting window
        firmware.AddCounts(head: 0, 1523);                // the emulated physics: clicks on head 0
        DetectorCounts counts = detector.ReadCounts();    // counts.Counts: [1523, 0, 0, 0]

        firmware.OpenInterlock();                         // the enclosure lid opens: bias goes off
        try { detector.SetBiasEnabled(0, true); }
        catch (DeviceNackException e) when (e.Code == ErrorCode.InterlockOpen)
        {
            // e.Message: "detector SPD-0007 (...): set bias enabled on channel 0 to 1 0/1 failed: the device refused it (InterlockOpen): ..."
        }
        // end of sample

        Assert.Equal(4, detector.Heads);
        Assert.Equal(0.20, firmware.Efficiency(3), 6);
        Assert.Equal(2_000, firmware.GateWidthPs(1));
        Assert.Equal(10_000_000, firmware.DeadTimePs(2));
        Assert.True(firmware.IsGated);
        Assert.Equal([1523UL, 0UL, 0UL, 0UL], counts.Counts);
        Assert.False(firmware.IsBiasEnabled(0));
        var refused = Assert.Throws<DeviceNackException>(() => detector.SetBiasEnabled(0, true));
        Assert.Equal(ErrorCode.InterlockOpen, refused.Code);
        Assert.Contains("SPD-0007", refused.Device);
        Assert.Equal("set bias enabled on channel 0 to 1 0/1", refused.Operation);
    }

    [Fact]
    public async Task Modulator_sample()
    {
        // sample: src/Qkd.Hardware/Modulator/README.md
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));   // never wait for ever on a device
        using var firmware = new EmulatedLaserModulatorFirmware("MOD-0003");
        using var cable = new EmulatedDeviceConnector(firmware, EmulatedDeviceTransport.InProcess);
        using var modulator = new ProtocolLaserModulator(cable);
        modulator.Connect();
        modulator.SetPulseRateHz(1_000_000_000);                 // ModulatorPulseRateHz: 1 GHz
        modulator.SetMeanPhotonNumber(Intensity.Signal, 0.5);    // ModulatorIntensityMicroPhotons, channel 0 = 500 000
        modulator.SetMeanPhotonNumber(Intensity.Decoy, 0.15);    // channel 1
        modulator.SetMeanPhotonNumber(Intensity.Vacuum, 0.0);    // channel 2
        modulator.SetSyncDivider(1024);                          // ModulatorSyncDivider
        modulator.SetBasisPhaseRadians(Basis.X, 0.05);           // ModulatorPhaseMilliradians, channel 1 = 50

        var alice = new SeededSymbolSource(7, new SymbolDistribution(0.75, [0.65, 0.25, 0.10]));
        modulator.StartEmission(alice, firstPulse: 0, endPulse: 200_000);  // symbols stream on a background thread
        await modulator.StreamingCompletion.WaitAsync(timeout.Token);   // every symbol handed to the transport
        StreamSummary summary = modulator.StopEmission();        // summary.Items: 200 000 symbols, in 4 SymbolData frames
        bool locked = modulator.BiasLocked;                      // from the last StatusChanged event: true
        // end of sample

        Assert.True(modulator.StreamingCompletion.IsCompletedSuccessfully);
        Assert.Equal(200_000UL, summary.Items);
        Assert.Equal(4u, summary.Frames);
        Assert.Equal(200_000, modulator.SymbolsStreamed);
        Assert.True(locked);
        Assert.Equal(1_000_000_000, firmware.PulseRateHz);
        Assert.Equal(500_000, firmware.IntensityMicroPhotons(0));
        Assert.Equal(150_000, firmware.IntensityMicroPhotons(1));
        Assert.Equal(0, firmware.IntensityMicroPhotons(2));
        Assert.Equal(1024, firmware.SyncDivider);
        Assert.Equal(50, firmware.PhaseMilliradians(1));
        var emitted = firmware.LastEmission!;
        for (long pulse = 0; pulse < 200_000; pulse += 997)
            Assert.Equal(alice.SymbolAt(pulse), emitted.SymbolAt(pulse));
        Assert.Equal(0, firmware.ItemsLost);
    }

    [Fact]
    public async Task TimeTagger_sample()
    {
        // sample: src/Qkd.Hardware/TimeTagger/README.md
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));   // never wait for ever on a device
        // The emulated bench: Alice's modulator, Bob's detector and tagger around one 10 km link. The tagger's wiring
        // (EmulatedTimeTaggerOptions): Alice's sync on input 0, the four detectors on inputs 1..4.
        var profile = LinkProfile.Default.WithDistance(10);
        using var bench = new EmulatedLinkDevices(profile, new EmulatedTimeTaggerOptions(), seed: 42);
        using var taggerCable = new EmulatedDeviceConnector(bench.Tagger, EmulatedDeviceTransport.InProcess);
        using var modulatorCable = new EmulatedDeviceConnector(bench.Modulator, EmulatedDeviceTransport.InProcess);
        using var tagger = new ProtocolTimeTagger(taggerCable);
        using var modulator = new ProtocolLaserModulator(modulatorCable);
        tagger.Connect();
        modulator.Connect();

        tagger.SetSyncChannel(0);                         // TaggerSyncChannel
        for (int input = 0; input <= 4; input++)
            tagger.SetTriggerLevelVolts(input, -0.4);     // TaggerTriggerLevelMicrovolts = -400 000 (NIM)
        tagger.SetInputDelayPs(1, 250);                   // TaggerInputDelayPs: cable compensation
        modulator.SetMeanPhotonNumber(Intensity.Signal, 0.5);     // mean photons per signal pulse
        modulator.SetMeanPhotonNumber(Intensity.Decoy, 0.15);     // ... per decoy pulse
        modulator.SetSyncDivider(1024);                   // one sync tag every 1024 pulses

        tagger.StartStream();
        modulator.StartEmission(new SeededSymbolSource(7, new SymbolDistribution(0.75, [0.65, 0.25, 0.10])), firstPulse: 0, endPulse: 1_000_000);
        await modulator.StreamingCompletion.WaitAsync(timeout.Token);
        modulator.StopEmission();                         // the emulated tagger's stream ends with the emission's light

        var tags = new TimeTag[4096];
        long syncs = 0, clicks = 0;
        for (int n; (n = tagger.Read(tags, timeout.Token)) > 0;)         // 0: the stream has ended
        {
            foreach (TimeTag tag in tags.AsSpan(0, n))
            {
                if (!tag.IsEvent) continue;               // OverflowBegin/End bracket lost data
                if (tag.Channel == 0) syncs++; else clicks++;
            }
        }
        // syncs: 977 (pulses 0, 1024, ... 999 424); clicks: the detections; tagger.StreamCounters: nothing lost
        // end of sample

        Assert.Equal(977, syncs);
        Assert.True(clicks > 0, "no detections in 1 ms of a 10 km link");
        Assert.Equal(syncs + clicks, tagger.StreamCounters.Tags);
        Assert.Equal(0, tagger.StreamCounters.FramesLost);
        Assert.Equal(0, tagger.StreamCounters.FramesInvalid);
        Assert.Equal(0, tagger.StreamCounters.GapsMarked);
        Assert.Equal(0, tagger.StreamCounters.OverflowEvents);
        Assert.Equal(250, tagger.GetInputDelayPs(1));
        Assert.Equal(8, tagger.Channels);
    }

    [Fact]
    public async Task RandomNumberGenerator_sample()
    {
        // sample: src/Qkd.Hardware/RandomNumberGenerator/README.md
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));   // never wait for ever on a device
        using var firmware = new EmulatedRandomNumberGeneratorFirmware(seed: 42, "QRNG-0005");
        using var cable = new EmulatedDeviceConnector(firmware, EmulatedDeviceTransport.InProcess);
        using var qrng = new ProtocolRandomNumberGenerator(cable);   // host tests: bits, H = 1, alpha = 2^-30: cutoffs 31 and 609
        qrng.Connect();                                   // Identify: class 4, serial number
        qrng.SetBlockSizeBytes(4_096);                    // RngBlockSizeBytes
        qrng.SetRateLimitBytesPerSecond(1_250_000);       // RngRateLimitBytesPerSecond: 10 Mbit/s
        qrng.StartStream();                               // RngStartStream: start-up testing on the first 16 384 bits

        var seed = new byte[32];
        qrng.ReadEntropy(seed, timeout.Token);            // waits for start-up testing, then 32 checked bytes

        firmware.InjectStuck();                           // the noise source sticks at 0
        EntropySourceHealth failed = await qrng.WaitForHealthAsync(EntropyHealthState.Failed, timeout.Token);
        // failed.DeviceFlags: StartupTestPassed | ContinuousTestFailure: the device's own test caught it and withholds output
        try { qrng.ReadEntropy(seed, timeout.Token); }
        catch (EntropySourceFailedException e) when (e.Health.State == EntropyHealthState.Failed)
        {
            // No entropy from a failing source; seed is zeroed.
        }

        firmware.ClearNoiseFault();                       // the device recovers, then the host's tests pass their run again
        await qrng.WaitForHealthAsync(EntropyHealthState.Healthy, timeout.Token);
        qrng.ReadEntropy(seed, timeout.Token);
        StreamSummary summary = qrng.StopStream();        // RngStopStream: entropy bytes and blocks the device sent
        // end of sample

        Assert.Equal(DeviceClass.RandomNumberGenerator, qrng.Identity!.DeviceClass);
        Assert.Equal(RngHealthFlags.StartupTestPassed | RngHealthFlags.ContinuousTestFailure, failed.DeviceFlags);
        Assert.Null(failed.TestFailure);
        Assert.True(qrng.Health.IsHealthy);
        Assert.Contains(seed, b => b != 0);
        Assert.Equal(64, qrng.StreamCounters.BytesDelivered);
        Assert.Equal(1, qrng.StreamCounters.DeviceFailures);
        Assert.Equal(0, qrng.StreamCounters.RepetitionCountFailures + qrng.StreamCounters.AdaptiveProportionFailures);
        Assert.True(qrng.StreamCounters.BytesWithheldByDevice > 0);
        Assert.True(summary.Items >= 3 * 4_096);
        Assert.Equal(31, qrng.HealthOptions.RepetitionCutoff);
        Assert.Equal(609, qrng.HealthOptions.ProportionCutoff);
    }

    [Fact]
    public async Task Devices_sample()
    {
        // sample: src/Qkd.Hardware/Devices/README.md
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));   // never wait for ever on a device
        using var firmware = new EmulatedSinglePhotonDetectorFirmware("SPD-0007");
        using var cable = new EmulatedDeviceConnector(firmware, EmulatedDeviceTransport.InProcess);

        // Who is there? One Identify frame, nothing configured (what `qkd devices` does per port).
        DiscoveredDevice found = new DeviceDiscovery().Probe("emulated", cable.Description, null, cable.Connect);
        // found.Identity: "detector QKD-SPD emulated SN SPD-0007, firmware 1.0.0, 1209:7d01, 4 channels"

        var options = new DeviceConnectionOptions { ReplyTimeout = TimeSpan.FromMilliseconds(500), Retries = 2 };
        using IDevice device = new ProtocolSinglePhotonDetector(cable, options);
        device.Connect();
        device.SetParameter(ParameterId.DetectorGateDelayPs, channel: 2, 12_345);   // checked against ParameterCatalog, then sent
        try { device.SetParameter(ParameterId.DetectorGateDelayPs, 2, -1); }
        catch (ArgumentOutOfRangeException) { /* "gate delay on channel 2: -1 ps is outside 0..1000000 ps"; nothing was sent */ }

        var gone = new TaskCompletionSource<DeviceDisconnectedException>();
        device.Disconnected += e => gone.TrySetResult(e);
        cable.Unplug();                                   // pull the cable
        DeviceDisconnectedException cause = await gone.Task.WaitAsync(timeout.Token);   // names the device
        cable.Replug();
        device.Reconnect();                               // same serial number required; settings re-applied
        long delay = device.GetParameter(ParameterId.DetectorGateDelayPs, 2);   // 12 345 again
        IReadOnlyDictionary<string, long> counters = device.Counters;        // requests, retries, timeouts, nacks, rx.*, ...
        // end of sample

        Assert.Null(found.Problem);
        Assert.Equal("SPD-0007", found.Identity!.SerialNumber);
        Assert.Equal(DeviceClass.SinglePhotonDetector, found.Identity.DeviceClass);
        Assert.Equal("detector QKD-SPD emulated SN SPD-0007, firmware 1.0.0, 1209:7d01, 4 channels", found.Identity.ToString());
        Assert.Contains("SPD-0007", cause.Device);
        Assert.Equal(12_345, delay);
        Assert.Equal(12_345, firmware.GateDelayPs(2));
        Assert.Equal(ConnectionState.Connected, device.State);
        Assert.Equal(1, device.Reconnects);
        Assert.Equal(1, counters["disconnects"]);
        Assert.Equal(1, counters["reconnects"]);
        Assert.True(counters["requests"] > 0);
        var refused = Assert.Throws<ArgumentOutOfRangeException>(() => device.SetParameter(ParameterId.DetectorGateDelayPs, 2, -1));
        Assert.Contains("gate delay on channel 2: -1 ps is outside 0..1000000 ps", refused.Message);
    }

    [Fact]
    public void Serial_sample()
    {
        // sample: src/Qkd.Hardware/Transport/Serial/README.md
        using var firmware = new EmulatedSinglePhotonDetectorFirmware("SPD-0007");
        using var pty = PseudoTerminal.Open();            // stands in for the USB-serial adapter: /dev/pts/N
        firmware.Plug(new StreamFrameTransport(pty.Master, "detector end of the line", ownsStream: false));

        var port = new SerialPortOptions(pty.SlavePath) { BaudRate = 3_000_000 };   // on a bench: "/dev/qkd/detector-SPD-0007"
        using var detector = new ProtocolSinglePhotonDetector(new SerialDeviceConnector(port));
        detector.Connect();                               // System.IO.Ports; COBS frames, 0x00 delimiters
        double kelvin = detector.GetTemperatureKelvin();  // 223.15 (the emulated cooler sits at its set point)
        // end of sample

        Assert.Equal(223.15, kelvin, 3);
        Assert.Contains(pty.SlavePath, detector.Name);
        Assert.Equal(0, detector.Counters["rx.framesRejected"]);
    }

    public static TheoryData<string, string> Samples => new()
    {
        { "src/Qkd.Hardware/Detector/README.md", nameof(Detector_sample) },
        { "src/Qkd.Hardware/Modulator/README.md", nameof(Modulator_sample) },
        { "src/Qkd.Hardware/TimeTagger/README.md", nameof(TimeTagger_sample) },
        { "src/Qkd.Hardware/RandomNumberGenerator/README.md", nameof(RandomNumberGenerator_sample) },
        { "src/Qkd.Hardware/Devices/README.md", nameof(Devices_sample) },
        { "src/Qkd.Hardware/Transport/Serial/README.md", nameof(Serial_sample) },
    };

    /// <summary>
    /// The README's sample (the csharp block after its <c>&lt;!-- sample: ... --&gt;</c> marker) is the code between
    /// this file's markers for that README, and its using directives are among this file's.
    /// </summary>
    [Theory]
    [MemberData(nameof(Samples))]
    public void Readme_sample_is_the_code_its_test_runs(string readme, string test)
    {
        string root = RepositoryRoot();
        var readmeLines = File.ReadAllLines(Path.Combine(root, readme));
        int marker = Array.FindIndex(readmeLines, l => l.StartsWith("<!-- sample:", StringComparison.Ordinal));
        Assert.True(marker >= 0, $"{readme} has no '<!-- sample: ... -->' marker before its sample.");
        int fence = Array.FindIndex(readmeLines, marker, l => l.Trim() == "```csharp");
        int close = Array.FindIndex(readmeLines, fence + 1, l => l.Trim() == "```");
        Assert.True(fence > marker && close > fence, $"{readme}: no ```csharp block after the sample marker.");
        var block = readmeLines[(fence + 1)..close];
        var usings = block.TakeWhile(l => IsUsingDirective(l) || l.Trim().Length == 0).Where(IsUsingDirective).ToList();
        var body = Dedent(block.SkipWhile(l => IsUsingDirective(l) || l.Trim().Length == 0));

        var sourceLines = File.ReadAllLines(ThisFile());
        int begin = Array.FindIndex(sourceLines, l => l.Trim() == $"// sample: {readme}");
        Assert.True(begin >= 0, $"{test} has no '// sample: {readme}' marker.");
        int end = Array.FindIndex(sourceLines, begin, l => l.Trim() == "// end of sample");
        var code = Dedent(sourceLines[(begin + 1)..end]);

        Assert.True(code.SequenceEqual(body),
            $"The sample in {readme} differs from the code {test} runs; make them identical.\n--- README\n{string.Join('\n', body)}\n--- test\n{string.Join('\n', code)}");
        var fileUsings = sourceLines.Where(IsUsingDirective).Select(l => l.Trim()).ToHashSet();
        Assert.All(usings, u => Assert.Contains(u.Trim(), fileUsings));
    }

    private static bool IsUsingDirective(string line)
    {
        string t = line.Trim();
        return t.StartsWith("using ", StringComparison.Ordinal) && t.EndsWith(';') && !t.StartsWith("using var ", StringComparison.Ordinal)
               && !t.Contains('(') && !t.Contains('=');
    }

    private static List<string> Dedent(IEnumerable<string> lines)
    {
        var list = lines.Select(l => l.TrimEnd()).ToList();
        while (list.Count > 0 && list[^1].Length == 0) list.RemoveAt(list.Count - 1);
        int indent = list.Where(l => l.Length > 0).Select(l => l.Length - l.TrimStart().Length).DefaultIfEmpty(0).Min();
        return list.Select(l => l.Length == 0 ? l : l[indent..]).ToList();
    }

    private static string ThisFile([CallerFilePath] string path = "") => path;

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(Path.GetDirectoryName(ThisFile())!); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "QkdDriver.sln"))) return dir.FullName;
        throw new DirectoryNotFoundException($"QkdDriver.sln not found above {ThisFile()}.");
    }
}
