using Qkd.Core.Random;
using Qkd.Emulation.Firmware;
using Qkd.Emulation.Hosting;
using Qkd.Hardware.Devices;
using Qkd.Hardware.RandomNumberGenerator;
using Qkd.Protocol;
using Qkd.Protocol.Messages;

namespace Qkd.Hardware.Tests.Drivers;

/// <summary>
/// The random number generator driver against the emulated QRNG, in process. Device time is a manual clock and the
/// device makes one 1024-byte block per millisecond of it, so every block is known: with the host's default tests
/// (bits, H = 1, α = 2^−30, 16 windows to start) blocks 0 and 1 of a stream are start-up testing and block 2 is the
/// first entropy handed out. Nothing waits on time: the tests wait for reads to complete and for health changes.
/// </summary>
public sealed class RandomNumberGeneratorDriverTests : IDisposable
{
    private const ulong Seed = 2024;
    private const int Block = 1_024;
    private static readonly TimeSpan OneBlock = TimeSpan.FromMilliseconds(1);

    private readonly ManualDeviceClock _clock = new();
    private readonly EmulatedRandomNumberGeneratorFirmware _firmware;
    private readonly EmulatedDeviceConnector _cable;
    private readonly ProtocolRandomNumberGenerator _qrng;
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromMinutes(1)); // a broken driver fails, never hangs
    private readonly List<EntropySourceHealth> _changes = [];

    public RandomNumberGeneratorDriverTests()
    {
        _firmware = new EmulatedRandomNumberGeneratorFirmware(Seed, "QRNG-0005", _clock);
        _cable = new EmulatedDeviceConnector(_firmware, EmulatedDeviceTransport.InProcess);
        _qrng = new ProtocolRandomNumberGenerator(_cable, options: new DeviceConnectionOptions { ReplyTimeout = TimeSpan.FromSeconds(2) },
            bufferBytes: 2 * Block);
        _qrng.HealthChanged += h =>
        {
            lock (_changes) _changes.Add(h);
        };
        _qrng.Connect();
        _qrng.SetBlockSizeBytes(Block);
        _qrng.SetRateLimitBytesPerSecond(1_024_000);
    }

    public void Dispose()
    {
        _qrng.Dispose();
        _cable.Dispose();
        _firmware.Dispose();
        _timeout.Dispose();
    }

    private CancellationToken Timeout => _timeout.Token;

    /// <summary>
    /// A device whose own tests are loose (cutoffs at their maxima: a run of 2^20 equal bits, and an adaptive
    /// proportion test that cannot trip): what it lets through, the host's tests must catch.
    /// </summary>
    private void LoosenDeviceTests() => _qrng.SetDeviceHealthCutoffs(1 << 20, 1_025);

    /// <summary>Byte k of the emulated noise source (its start-up test took bytes 0 .. 2047).</summary>
    private static byte[] Source(long from, int count)
    {
        var bytes = new byte[from + count];
        ((IRandomSource)new Xoshiro256StarStar(Seed)).Fill(bytes);
        return bytes[(int)from..];
    }

    /// <summary>The health states raised so far, a state repeated by a change of the device's flags alone counted once.</summary>
    private List<EntropyHealthState> States()
    {
        lock (_changes)
        {
            var states = new List<EntropyHealthState>();
            foreach (EntropySourceHealth change in _changes)
                if (states.Count == 0 || states[^1] != change.State) states.Add(change.State);
            return states;
        }
    }

    /// <summary>Starts the stream and reads block 2, the first checked block: the source is then healthy.</summary>
    private byte[] StartAndReadFirstBlock()
    {
        _qrng.StartStream();
        _clock.Advance(3 * OneBlock);
        var first = new byte[Block];
        _qrng.ReadEntropy(first, Timeout);
        Assert.True(_qrng.Health.IsHealthy);
        return first;
    }

    [Fact]
    public void Connect_identifies_the_device_and_settings_are_range_checked_before_anything_is_sent()
    {
        Assert.Equal(DeviceClass.RandomNumberGenerator, _qrng.Identity!.DeviceClass);
        Assert.Equal("QRNG-0005", _qrng.Identity.SerialNumber);
        Assert.Equal(0x7D04, _qrng.Identity.ProductId);
        Assert.Equal(Block, _qrng.GetBlockSizeBytes());
        Assert.Equal(1_024_000, _qrng.GetRateLimitBytesPerSecond());
        long before = _firmware.FramesReceived;
        Assert.Contains("block size: 8 bytes is outside 16..65512 bytes", Assert.Throws<ArgumentOutOfRangeException>(() => _qrng.SetBlockSizeBytes(8)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => _qrng.SetDeviceHealthCutoffs(20, 625));
        Assert.Throws<ArgumentOutOfRangeException>(() => _qrng.SetRateLimitBytesPerSecond(999));
        Assert.Equal(before, _firmware.FramesReceived);
        Assert.Equal(EntropyHealthState.Starting, _qrng.Health.State);
        Assert.Equal(RngHealthFlags.StartupTestPassed, _qrng.ReadDeviceHealth().Flags);
    }

    [Fact]
    public async Task Reads_the_seeded_entropy_after_start_up_testing_and_without_allocating()
    {
        byte[] first = StartAndReadFirstBlock();
        Assert.Equal(Source(2_048 + 2 * Block, Block), first);
        Assert.Equal(3, _qrng.StreamCounters.Blocks);
        Assert.Equal(2 * Block, _qrng.StreamCounters.BytesDiscarded); // blocks 0 and 1: start-up testing
        Assert.Equal(Block, _qrng.StreamCounters.BytesDelivered);

        _clock.Advance(2 * OneBlock);
        await _firmware.WaitForBlocksSentAsync(5, Timeout);
        StreamSummary summary = _qrng.StopStream(); // its reply follows the last block: everything is in the buffer
        Assert.Equal(5u, summary.Frames);
        var next = new byte[2 * Block];
        long allocated = GC.GetAllocatedBytesForCurrentThread();
        _qrng.ReadEntropy(next); // no token: registering one for cancellation is the caller's allocation, not the read's
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - allocated);
        Assert.Equal(Source(2_048 + 3 * Block, 2 * Block), next);
        Assert.Equal([EntropyHealthState.Starting, EntropyHealthState.Healthy], States());
    }

    [Fact]
    public void A_block_lost_on_the_line_is_counted_and_the_entropy_after_it_still_flows()
    {
        StartAndReadFirstBlock();
        _firmware.CorruptNextFrames(1);  // block 3 fails its CRC at the host
        _clock.Advance(2 * OneBlock);
        var after = new byte[Block];
        _qrng.ReadEntropy(after, Timeout);
        Assert.Equal(Source(2_048 + 4 * Block, Block), after); // block 4
        Assert.Equal(1, _qrng.StreamCounters.BlocksLost);
        Assert.Equal(1, _qrng.Counters["rx.crcMismatch"]);
        Assert.Equal(1, _qrng.Counters["stream.blocksLost"]);
        Assert.True(_qrng.Health.IsHealthy); // a gap restarts the tests' run and window, it is no failure
    }

    [Fact]
    public async Task A_stuck_source_trips_the_host_repetition_count_test_entropy_is_refused_and_it_recovers_when_cleared()
    {
        LoosenDeviceTests();
        StartAndReadFirstBlock();
        Task<EntropySourceHealth> failing = _qrng.WaitForHealthAsync(EntropyHealthState.Failed, Timeout);
        _firmware.InjectStuck(false);
        _clock.Advance(OneBlock);
        EntropySourceHealth failed = await failing;
        HealthTestFailure failure = failed.TestFailure!.Value;
        Assert.Equal(HealthTest.RepetitionCount, failure.Test);
        Assert.Equal(31, failure.Cutoff);
        Assert.Equal(31, failure.Count);
        Assert.Equal(0, failure.Value);
        Assert.False(failed.DeviceFailing);

        var refused = Assert.Throws<EntropySourceFailedException>(() => _qrng.ReadEntropy(new byte[16], Timeout));
        Assert.Equal(HealthTest.RepetitionCount, refused.Health.TestFailure!.Value.Test);
        Assert.Contains("repetition count test", refused.Message);
        Assert.Contains("QRNG-0005", refused.Device);
        Assert.True(_qrng.StreamCounters.RepetitionCountFailures >= 1);

        Task<EntropySourceHealth> healthy = _qrng.WaitForHealthAsync(EntropyHealthState.Healthy, Timeout);
        _firmware.ClearNoiseFault();
        _clock.Advance(3 * OneBlock);   // blocks 4 and 5 pass the recovery run (it ends inside 5), block 6 is handed out
        await healthy;
        var after = new byte[Block];
        _qrng.ReadEntropy(after, Timeout);
        Assert.Equal(Source(2_048 + 5 * Block, Block), after); // the stuck block drew nothing from the source
        Assert.Equal([EntropyHealthState.Starting, EntropyHealthState.Healthy, EntropyHealthState.Failed, EntropyHealthState.Healthy], States());
    }

    [Fact]
    public async Task A_biased_source_trips_the_host_adaptive_proportion_test_and_recovers_when_cleared()
    {
        LoosenDeviceTests();
        StartAndReadFirstBlock();
        Task<EntropySourceHealth> failing = _qrng.WaitForHealthAsync(EntropyHealthState.Failed, Timeout);
        _firmware.InjectBias(0.6);
        _clock.Advance(4 * OneBlock);    // 32 windows: each trips the cutoff of 609 with probability about 0.4
        EntropySourceHealth failed = await failing;
        HealthTestFailure failure = failed.TestFailure!.Value;
        Assert.Equal(HealthTest.AdaptiveProportion, failure.Test);
        Assert.Equal(609, failure.Cutoff);
        Assert.Equal(609, failure.Count);
        Assert.Equal(1, failure.Value);
        Assert.Throws<EntropySourceFailedException>(() => _qrng.ReadEntropy(new byte[16], Timeout));
        Assert.True(_qrng.StreamCounters.AdaptiveProportionFailures >= 1);

        // Blocks the device has not made yet are good from here on; after the last biased one, two good blocks pass
        // the recovery run and the next is handed out.
        Task<EntropySourceHealth> healthy = _qrng.WaitForHealthAsync(EntropyHealthState.Healthy, Timeout);
        _firmware.ClearNoiseFault();
        _clock.Advance(3 * OneBlock);
        await healthy;
        var after = new byte[Block];
        _qrng.ReadEntropy(after, Timeout);
        Assert.Contains(after, b => b != after[0]);
        Assert.Equal(EntropyHealthState.Healthy, _qrng.Health.State);
    }

    [Fact]
    public async Task A_failure_the_device_reports_itself_refuses_entropy_until_the_device_and_then_the_host_tests_pass_again()
    {
        // The device's default cutoffs (41, 625) catch a stuck source before the host sees a single stuck block.
        StartAndReadFirstBlock();
        Task<EntropySourceHealth> failing = _qrng.WaitForHealthAsync(EntropyHealthState.Failed, Timeout);
        _firmware.InjectStuck(true);
        _clock.Advance(OneBlock);
        EntropySourceHealth failed = await failing;
        Assert.True(failed.DeviceFailing);
        Assert.Equal(RngHealthFlags.StartupTestPassed | RngHealthFlags.ContinuousTestFailure, failed.DeviceFlags);
        Assert.Null(failed.TestFailure);
        var refused = Assert.Throws<EntropySourceFailedException>(() => _qrng.ReadEntropy(new byte[16], Timeout));
        Assert.Contains("the device reports a failed continuous health test", refused.Message);

        Task<EntropySourceHealth> healthy = _qrng.WaitForHealthAsync(EntropyHealthState.Healthy, Timeout);
        _firmware.ClearNoiseFault();
        // The device withholds blocks 3 to 5 while it recovers; then the host's tests start afresh on blocks 6 and 7.
        _clock.Advance(6 * OneBlock);
        await healthy;
        var after = new byte[Block];
        _qrng.ReadEntropy(after, Timeout);
        Assert.Equal(Source(2_048 + 7 * Block, Block), after); // block 8
        Assert.Equal(3 * Block, _qrng.StreamCounters.BytesWithheldByDevice);
        Assert.Equal(0, _qrng.StreamCounters.BlocksLost);
        Assert.Equal(1, _qrng.StreamCounters.DeviceFailures);
        Assert.Equal(0, _qrng.StreamCounters.RepetitionCountFailures);
        Assert.Equal([EntropyHealthState.Starting, EntropyHealthState.Healthy, EntropyHealthState.Failed, EntropyHealthState.Starting,
            EntropyHealthState.Healthy], States());
    }

    [Fact]
    public async Task A_source_fault_fails_a_waiting_read_at_once_and_clearing_it_starts_over()
    {
        StartAndReadFirstBlock();
        Task waiting = Task.Run(() => _qrng.ReadEntropy(new byte[Block], Timeout)); // nothing buffered: it waits
        _firmware.InjectSourceFault();
        var refused = await Assert.ThrowsAsync<EntropySourceFailedException>(() => waiting);
        Assert.Equal(RngHealthFlags.SourceFault, refused.Health.DeviceFlags);
        Assert.Contains("noise source fault", refused.Message);
        Assert.Equal(RngHealthFlags.SourceFault, _qrng.ReadDeviceHealth().Flags);
        Assert.True((_qrng.GetStatus().Flags & StatusFlags.Fault) != 0);

        Task<EntropySourceHealth> starting = _qrng.WaitForHealthAsync(EntropyHealthState.Starting, Timeout);
        _firmware.ClearSourceFault();
        await starting;
        _clock.Advance(3 * OneBlock);
        var after = new byte[Block];
        _qrng.ReadEntropy(after, Timeout);
        Assert.Equal(Source(2_048 + 3 * Block + 2_048 + 2 * Block, Block), after); // after the device's second start-up test
    }

    [Fact]
    public async Task A_read_that_cannot_be_completed_takes_nothing_and_a_full_buffer_drops_and_counts_what_did_not_fit()
    {
        _qrng.StartStream();
        _clock.Advance(6 * OneBlock);    // blocks 2 to 5 pass; the buffer holds two of them
        await _firmware.WaitForBlocksSentAsync(6, Timeout);
        _qrng.StopStream();
        Assert.Equal(2 * Block, _qrng.StreamCounters.BytesOverflowed);
        Assert.Equal(2 * Block, _qrng.Buffered);

        var span = new byte[3 * Block];
        Assert.Throws<InvalidOperationException>(() => _qrng.ReadEntropy(span, Timeout)); // 2 KiB there, 3 KiB asked, no stream
        Assert.All(span, b => Assert.Equal(0, b));                                      // the 2 KiB it had taken are zeroed
        Assert.Equal(0, _qrng.Buffered);
        Assert.Equal(2 * Block + 2 * Block, _qrng.StreamCounters.BytesDiscarded);       // start-up blocks and the abandoned read
        Assert.Equal(0, _qrng.StreamCounters.BytesDelivered);
    }

    [Fact]
    public async Task An_unplugged_device_gives_a_typed_disconnect_and_the_next_read_reconnects_and_restarts_the_stream()
    {
        StartAndReadFirstBlock();
        var gone = new TaskCompletionSource();
        _qrng.Disconnected += _ => gone.TrySetResult();
        _cable.Unplug();
        await gone.Task.WaitAsync(Timeout);
        var e = Assert.Throws<DeviceDisconnectedException>(() => _qrng.ReadEntropy(new byte[16], Timeout));
        Assert.Contains("QRNG-0005", e.Device);

        _cable.Replug();
        var reconnected = new TaskCompletionSource();
        _qrng.Reconnected += () => reconnected.TrySetResult();
        var after = new byte[Block];
        Task read = Task.Run(() => _qrng.ReadEntropy(after, Timeout)); // reconnects, restarts the stream, then waits
        await reconnected.Task.WaitAsync(Timeout);
        _clock.Advance(3 * OneBlock);
        await read;
        Assert.Equal(Source(2_048 + 3 * Block + 2 * Block, Block), after); // the new stream's block 2
        Assert.Equal(1, _qrng.Reconnects);
        Assert.True(_qrng.IsStreaming);
    }
}
