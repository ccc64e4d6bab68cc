using System.Diagnostics.Metrics;
using Microsoft.Extensions.Logging;
using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Emulation.Firmware;
using Qkd.Emulation.Hosting;
using Qkd.Hardware.Devices;
using Qkd.Hardware.RandomNumberGenerator;
using Qkd.Node.Entropy;
using Qkd.Node.Link;
using Qkd.Node.Metrics;

namespace Qkd.Node.Tests.Entropy;

/// <summary>
/// A node's QRNG entropy source against the emulated QRNG behind its real driver, in process. Device time is a manual
/// clock and the device makes one 1024-byte block per millisecond of it, so every block is known: blocks 0 and 1 of a
/// stream are the host's start-up testing, block 2 the first entropy handed out. Nothing waits on time: the tests
/// advance the clock and wait for health changes and reads.
/// </summary>
public sealed class QrngEntropySourceTests
{
    private const int Block = 1_024;
    private static readonly TimeSpan OneBlock = TimeSpan.FromMilliseconds(1);

    /// <summary>One emulated QRNG, its driver, the entropy source over them, and what the source logged and counted.</summary>
    private sealed class Bench : IDisposable
    {
        public readonly ManualDeviceClock Clock = new();
        public readonly EmulatedRandomNumberGeneratorFirmware Firmware;
        public readonly EmulatedDeviceConnector Cable;
        public readonly ProtocolRandomNumberGenerator Qrng;
        public readonly ListLogger Log = new();
        public readonly EntropyMetrics Metrics;
        public readonly QrngEntropySource Source;
        public readonly CancellationTokenSource Timeout = new(TimeSpan.FromMinutes(2)); // a broken source fails, never hangs
        private readonly string _link = $"qrng-test-{Guid.NewGuid():N}";
        private readonly MeterListener _listener = new();
        private readonly Dictionary<string, long> _failures = new();
        private long _entropyBytes;
        private int? _healthy;

        public Bench(ulong seed = 2024)
        {
            Firmware = new EmulatedRandomNumberGeneratorFirmware(seed, "QRNG-0007", Clock);
            Cable = new EmulatedDeviceConnector(Firmware, EmulatedDeviceTransport.InProcess);
            Qrng = new ProtocolRandomNumberGenerator(Cable, options: new DeviceConnectionOptions { ReplyTimeout = TimeSpan.FromSeconds(5) },
                bufferBytes: 4 * Block);
            Qrng.Connect();
            Qrng.SetBlockSizeBytes(Block);
            Qrng.SetRateLimitBytesPerSecond(1_024_000);
            Metrics = new EntropyMetrics(_link, "alice");
            Source = new QrngEntropySource(Qrng, Log, Metrics, readTimeout: TimeSpan.FromMinutes(1), reconnectInterval: TimeSpan.FromMilliseconds(20));

            // Every test in the process shares the meter by name: only this bench's link counts here.
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == EntropyMetrics.MeterName && instrument.Name.StartsWith("qkd.rng.", StringComparison.Ordinal))
                    listener.EnableMeasurementEvents(instrument);
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) =>
            {
                if (!Has(tags, "link", _link)) return;
                lock (_failures)
                {
                    if (instrument.Name == "qkd.rng.health_failures") _failures[Tag(tags, "test")] = _failures.GetValueOrDefault(Tag(tags, "test")) + value;
                    else if (instrument.Name == "qkd.rng.entropy_bytes") _entropyBytes += value;
                }
            });
            _listener.SetMeasurementEventCallback<int>((instrument, value, tags, _) =>
            {
                if (instrument.Name == "qkd.rng.healthy" && Has(tags, "link", _link)) _healthy = value;
            });
            _listener.Start();
        }

        private static bool Has(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key, string value)
        {
            foreach (var tag in tags)
                if (tag.Key == key && (string?)tag.Value == value) return true;
            return false;
        }

        private static string Tag(ReadOnlySpan<KeyValuePair<string, object?>> tags, string key)
        {
            foreach (var tag in tags)
                if (tag.Key == key) return (string)tag.Value!;
            return "";
        }

        public CancellationToken Token => Timeout.Token;

        public long Failures(string test)
        {
            lock (_failures) return _failures.GetValueOrDefault(test);
        }

        public long EntropyBytes
        {
            get { lock (_failures) return _entropyBytes; }
        }

        /// <summary>qkd.rng.healthy as a scrape would read it now.</summary>
        public int? HealthyGauge()
        {
            _healthy = null;
            _listener.RecordObservableInstruments();
            return _healthy;
        }

        /// <summary>Releases <paramref name="blocks"/> blocks of device time.</summary>
        public void Advance(int blocks) => Clock.Advance(blocks * OneBlock);

        /// <summary>Starts the stream and passes start-up testing (blocks 0 and 1); block 2 is then waiting.</summary>
        public async Task StartHealthyAsync()
        {
            Source.Start();
            Assert.False(Source.IsHealthy);
            Assert.Contains("start-up testing", Source.Alarm);
            Advance(3);
            await Source.WaitUntilHealthyAsync(Token);
            Assert.True(Source.IsHealthy);
            Assert.Null(Source.Alarm);
        }

        /// <summary>The device's own tests made loose, so that what it lets through the host's tests must catch.</summary>
        public void LoosenDeviceTests() => Qrng.SetDeviceHealthCutoffs(1 << 20, 1_025);

        /// <summary>
        /// Advances the clock one block at a time until the driver reports Failed: a host test trips on a block that
        /// arrived, or the device's own test trips, withholds the block and reports its flags. Extra blocks released
        /// while the host is still taking one are as faulty as the rest, so the outcome does not depend on timing.
        /// </summary>
        public async Task<EntropySourceHealth> FailAsync()
        {
            Task<EntropySourceHealth> failed = Qrng.WaitForHealthAsync(EntropyHealthState.Failed, Token);
            long sent = Firmware.BlocksSent;
            while (!failed.IsCompleted)
            {
                Advance(1);
                await Task.WhenAny(failed, Firmware.WaitForBlocksSentAsync(++sent, Token));
                if (!failed.IsCompleted) await Task.WhenAny(failed, Task.Delay(10, Token)); // the frame is on its way to the host's reader
            }
            return await failed;
        }

        public void Dispose()
        {
            _listener.Dispose();
            Source.Dispose();
            Qrng.Dispose();
            Cable.Dispose();
            Firmware.Dispose();
            Metrics.Dispose();
            Timeout.Dispose();
        }
    }

    public sealed class ListLogger : ILogger
    {
        private readonly List<(LogLevel Level, string Message)> _entries = [];
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_entries) _entries.Add((logLevel, formatter(state, exception)));
        }

        public List<(LogLevel Level, string Message)> Entries
        {
            get { lock (_entries) return [.. _entries]; }
        }
    }

    private static LinkSettings Settings => LinkSettings.Default;

    [Fact]
    public async Task The_QRNG_keys_the_session_and_re_keys_the_symbols_every_epoch_with_32_checked_bytes_each()
    {
        using var bench = new Bench();
        await bench.StartHealthyAsync();
        Assert.Contains(bench.Log.Entries, e => e.Level == LogLevel.Information && e.Message.Contains("QRNG-0007") && e.Message.Contains("passed start-up testing"));
        Assert.Equal(1, bench.HealthyGauge());

        using var choices = ChoiceSources.For(Settings, insecureSeed: null, bench.Source, emittedPulses: 10 * 256, epochPulsesLog2: 8);
        Assert.False(choices.IsSeeded);
        var symbols = Assert.IsType<RekeyedSymbolSource>(choices.Symbols);
        Assert.Equal(3, bench.Source.Draws); // the distiller's, Toeplitz and squashing sources: 256 bits each
        Assert.Equal(0, symbols.KeyEpochs);

        var packed = new byte[10 * 256 / 2];
        symbols.FillPacked(0, packed); // the modulator's path: ten epochs
        Assert.Equal(10, symbols.KeyEpochs);
        Assert.Equal(13, bench.Source.Draws);
        Assert.Equal(13 * EntropyMixer.SourceBytes, bench.Qrng.StreamCounters.BytesDelivered); // every byte from the checked buffer
        Assert.Equal(13 * EntropyMixer.SourceBytes, bench.EntropyBytes);
        for (int i = 0; i < packed.Length; i += 37)
            Assert.Equal(symbols.SymbolAt(2L * i).Pack(), packed[i] & 0x0F); // the distiller reads back what was emitted
        Assert.Equal(10, Enumerable.Range(0, 10).Select(e => Convert.ToHexString(EpochKey(symbols, e))).Distinct().Count());
        Assert.DoesNotContain(bench.Log.Entries, e => e.Level >= LogLevel.Warning);
    }

    /// <summary>Epoch e's key through the internal test hook of Qkd.Core (not visible here): replayed from its symbols instead.</summary>
    private static byte[] EpochKey(RekeyedSymbolSource symbols, int epoch)
    {
        var packed = new byte[128];
        symbols.FillPacked(epoch * symbols.EpochPulses, packed);
        return packed;
    }

    [Fact]
    public async Task Two_sessions_over_identical_QRNG_output_still_emit_different_symbols_through_the_OS_half()
    {
        // Same seed, same clock: both emulated QRNGs give the same bytes; the OS CSPRNG half of every key differs.
        using var first = new Bench(seed: 99);
        using var second = new Bench(seed: 99);
        await first.StartHealthyAsync();
        await second.StartHealthyAsync();
        using var a = ChoiceSources.Keyed(Settings, first.Source, epochPulsesLog2: 8);
        using var b = ChoiceSources.Keyed(Settings, second.Source, epochPulsesLog2: 8);
        var symbolsA = new byte[512];
        var symbolsB = new byte[512];
        a.Symbols.FillPacked(0, symbolsA);
        b.Symbols.FillPacked(0, symbolsB);
        Assert.Equal(first.Qrng.StreamCounters.BytesDelivered, second.Qrng.StreamCounters.BytesDelivered);
        Assert.True(symbolsA.Zip(symbolsB).Count(p => p.First != p.Second) > 400);
    }

    [Fact]
    public async Task A_stuck_QRNG_trips_the_repetition_count_test_stops_generation_with_an_alarm_and_a_healthy_one_resumes_it()
    {
        using var bench = new Bench();
        await bench.StartHealthyAsync();
        using var choices = ChoiceSources.Keyed(Settings, bench.Source, epochPulsesLog2: 8);
        var symbols = (RekeyedSymbolSource)choices.Symbols;
        symbols.FillPacked(0, new byte[128]);
        PulseSymbol emitted = symbols.SymbolAt(17);

        bench.LoosenDeviceTests();
        bench.Firmware.InjectStuck();
        EntropySourceHealth failed = await bench.FailAsync();
        Assert.Equal(HealthTest.RepetitionCount, failed.TestFailure?.Test);

        // The alarm: one log line naming the device and the test, the counter, the gauge.
        Assert.False(bench.Source.IsHealthy);
        Assert.Contains("repetition count test", bench.Source.Alarm);
        var alarm = Assert.Single(bench.Log.Entries, e => e.Level == LogLevel.Error);
        Assert.Contains("QRNG-0007", alarm.Message);
        Assert.Contains("repetition_count", alarm.Message);
        Assert.Equal(1, bench.Failures("repetition_count"));
        Assert.Equal(0, bench.HealthyGauge());

        // Generation refused: no key material, no emission (not even inside a keyed epoch), no new session.
        var refused = Assert.Throws<EntropySourceUnavailableException>(() => bench.Source.FillKeyMaterial(new byte[32]));
        Assert.Contains("QRNG-0007", refused.Message);
        Assert.Throws<EntropySourceUnavailableException>(() => symbols.FillPacked(0, new byte[16]));
        Assert.Throws<EntropySourceUnavailableException>(() => ChoiceSources.Keyed(Settings, bench.Source, epochPulsesLog2: 8));
        Assert.Equal(emitted, symbols.SymbolAt(17)); // pulses already sent can still be looked up by the distiller
        long delivered = bench.Qrng.StreamCounters.BytesDelivered;

        // A healthy source again: recovery (16 windows of consecutive passing samples), then generation resumes.
        bench.Firmware.ClearNoiseFault();
        Task resumed = bench.Source.WaitUntilHealthyAsync(bench.Token);
        Assert.False(resumed.IsCompleted);
        bench.Advance(4);
        await resumed;
        Assert.Contains(bench.Log.Entries, e => e.Level == LogLevel.Information && e.Message.Contains("QRNG-0007") && e.Message.Contains("healthy again"));
        Assert.Equal(1, bench.HealthyGauge());
        symbols.FillPacked(256, new byte[128]); // a new epoch, keyed from entropy that passed the tests after recovery
        Assert.Equal(2, symbols.KeyEpochs);
        using var next = ChoiceSources.Keyed(Settings, bench.Source, epochPulsesLog2: 8);
        Assert.Equal(delivered + 4 * EntropyMixer.SourceBytes, bench.Qrng.StreamCounters.BytesDelivered);
        Assert.Equal(1, bench.Failures("repetition_count"));
    }

    [Fact]
    public async Task A_biased_QRNG_trips_the_adaptive_proportion_test_and_stops_generation()
    {
        using var bench = new Bench();
        await bench.StartHealthyAsync();
        using var choices = ChoiceSources.Keyed(Settings, bench.Source, epochPulsesLog2: 8);

        bench.LoosenDeviceTests();
        bench.Firmware.InjectBias(0.65);
        EntropySourceHealth failed = await bench.FailAsync();
        Assert.Equal(HealthTest.AdaptiveProportion, failed.TestFailure?.Test);
        Assert.False(bench.Source.IsHealthy);
        var alarm = Assert.Single(bench.Log.Entries, e => e.Level == LogLevel.Error);
        Assert.Contains("QRNG-0007", alarm.Message);
        Assert.Contains("adaptive_proportion", alarm.Message);
        Assert.Equal(1, bench.Failures("adaptive_proportion"));
        Assert.Equal(0, bench.HealthyGauge());
        Assert.Throws<EntropySourceUnavailableException>(() => choices.Symbols.FillPacked(0, new byte[16]));

        bench.Firmware.ClearNoiseFault();
        Task resumed = bench.Source.WaitUntilHealthyAsync(bench.Token);
        bench.Advance(4);
        await resumed;
        choices.Symbols.FillPacked(0, new byte[16]);
    }

    [Fact]
    public async Task A_QRNG_failure_the_device_reports_itself_stops_generation_too()
    {
        using var bench = new Bench();
        await bench.StartHealthyAsync();
        bench.Firmware.InjectStuck(); // the device's own tests (cutoffs 41 and 625) catch it and withhold its output
        EntropySourceHealth failed = await bench.FailAsync();
        Assert.True(failed.DeviceFailing);
        Assert.False(bench.Source.IsHealthy);
        Assert.Equal(1, bench.Failures("device_continuous_test"));
        Assert.Throws<EntropySourceUnavailableException>(() => bench.Source.FillKeyMaterial(new byte[32]));
    }

    [Fact]
    public async Task An_unplugged_QRNG_stops_generation_and_once_back_and_healthy_resumes_it()
    {
        using var bench = new Bench();
        await bench.StartHealthyAsync();
        var gone = new TaskCompletionSource();
        bench.Qrng.Disconnected += _ => gone.TrySetResult();
        bench.Cable.Unplug();
        await gone.Task.WaitAsync(bench.Token);

        Assert.False(bench.Source.IsHealthy);
        Assert.Contains("disconnected", bench.Source.Alarm);
        Assert.Equal(1, bench.Failures("disconnected"));
        Assert.Contains(bench.Log.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("QRNG-0007") && e.Message.Contains("disconnected"));
        Assert.Throws<EntropySourceUnavailableException>(() => ChoiceSources.Keyed(Settings, bench.Source));

        var reconnected = new TaskCompletionSource();
        bench.Qrng.Reconnected += () => reconnected.TrySetResult();
        Task resumed = bench.Source.WaitUntilHealthyAsync(bench.Token); // tries to reconnect while the device is away
        bench.Cable.Replug();
        await reconnected.Task.WaitAsync(bench.Token);
        Assert.False(bench.Source.IsHealthy); // start-up testing of the new stream first
        bench.Advance(3);
        await resumed;
        Assert.True(bench.Source.IsHealthy);
        using var choices = ChoiceSources.Keyed(Settings, bench.Source);
        Assert.Equal(1, bench.Qrng.Reconnects);
    }

    [Fact]
    public void A_session_keyed_from_an_unhealthy_source_is_refused_before_anything_is_drawn()
    {
        using var bench = new Bench();
        bench.Source.Start(); // start-up testing: no block released yet
        var e = Assert.Throws<EntropySourceUnavailableException>(() => ChoiceSources.For(Settings, null, bench.Source));
        Assert.Contains("start-up testing", e.Message);
        Assert.Equal(0, bench.Source.Draws);
        Assert.Equal("entropy", SessionAbortReason.Of(e));
    }
}
