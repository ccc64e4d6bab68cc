using Qkd.Core.Random;
using Qkd.Emulation.Firmware;
using Qkd.Protocol;
using Qkd.Protocol.Messages;

namespace Qkd.Emulation.Tests.Firmware;

/// <summary>
/// The emulated random number generator against firmware-protocols/random-number-generator.md: seeded entropy at the
/// rate limit of device time (a manual clock, so every block count is exact), withheld blocks and health events for a
/// stuck, biased or failed source, recovery, and the stream's own rules.
/// </summary>
public sealed class RandomNumberGeneratorFirmwareTests
{
    private const DeviceClass Rng = DeviceClass.RandomNumberGenerator;
    private const ulong Seed = 77;

    /// <summary>A device with 1024-byte blocks at 1 024 000 B/s: one block per millisecond of device time.</summary>
    private static (EmulatedRandomNumberGeneratorFirmware Device, FirmwareTestHost Host, ManualDeviceClock Clock) Attach()
    {
        var clock = new ManualDeviceClock();
        var device = new EmulatedRandomNumberGeneratorFirmware(Seed, "QRNG-0005", clock);
        (FirmwareTestHost host, var deviceEnd) = FirmwareTestHost.Connect("qrng");
        device.Plug(deviceEnd);
        Assert.Equal(1_024, host.Set(Rng, ParameterId.RngBlockSizeBytes, 0, 1_024));
        Assert.Equal(1_024_000, host.Set(Rng, ParameterId.RngRateLimitBytesPerSecond, 0, 1_024_000));
        return (device, host, clock);
    }

    /// <summary>Byte k of the seeded noise source: the generator's output, little endian.</summary>
    private static byte[] SourceBytes(int count)
    {
        var bytes = new byte[count];
        ((IRandomSource)new Xoshiro256StarStar(Seed)).Fill(bytes);
        return bytes;
    }

    /// <summary>Frames up to and including the <paramref name="blocks"/>-th RngEntropyData frame, split into blocks and events.</summary>
    private static (List<(uint Sequence, long Offset, byte[] Data)> Blocks, List<ReceivedFrame> Events) Take(FirmwareTestHost host, int blocks)
    {
        var taken = new List<(uint, long, byte[])>();
        var events = new List<ReceivedFrame>();
        while (taken.Count < blocks)
        {
            ReceivedFrame frame = host.Next() ?? throw new TimeoutException($"{taken.Count} of {blocks} blocks arrived");
            if (frame.Header.IsEvent)
            {
                events.Add(frame);
                continue;
            }
            Assert.True(frame.Header.IsStream, $"unexpected {frame.Header}");
            Assert.Equal(MessageType.RngEntropyData, frame.Header.Type);
            long offset = EntropyBlockCodec.Read(frame.Payload, out ReadOnlySpan<byte> data);
            taken.Add((frame.Header.Sequence, offset, data.ToArray()));
        }
        return (taken, events);
    }

    private static StreamSummary Stop(FirmwareTestHost host)
    {
        ReceivedFrame stop = host.Request(Rng, MessageType.RngStopStream);
        Assert.False(stop.Header.IsNack);
        Assert.DoesNotContain(host.Frames, f => f.Header.IsStream); // the response is the end of the stream
        return StreamSummary.Read(stop.Payload);
    }

    private static RngHealthReport Health(FirmwareTestHost host) => RngHealthReport.Read(host.Request(Rng, MessageType.RngGetHealth).Payload);

    [Fact]
    public void Blocks_carry_the_seeded_source_after_its_start_up_test_at_exactly_the_rate_limit()
    {
        (EmulatedRandomNumberGeneratorFirmware device, FirmwareTestHost host, ManualDeviceClock clock) = Attach();
        using (device)
        using (host)
        {
            RngHealthReport atPowerUp = Health(host);
            Assert.Equal(RngHealthFlags.StartupTestPassed, atPowerUp.Flags);
            Assert.Equal(16_384ul, atPowerUp.SamplesTested);
            Assert.False(host.Request(Rng, MessageType.RngStartStream).Header.IsNack);
            clock.Advance(TimeSpan.FromMilliseconds(10)); // 10 240 bytes of allowance: exactly ten blocks
            var (blocks, events) = Take(host, 10);
            StreamSummary summary = Stop(host);

            Assert.Equal(10_240ul, summary.Items);
            Assert.Equal(10u, summary.Frames);
            byte[] source = SourceBytes(EmulatedRandomNumberGeneratorFirmware.StartupBytes + 10_240);
            for (int i = 0; i < 10; i++)
            {
                Assert.Equal((uint)i, blocks[i].Sequence);
                Assert.Equal(1_024L * i, blocks[i].Offset);
                Assert.Equal(source.AsSpan(EmulatedRandomNumberGeneratorFirmware.StartupBytes + 1_024 * i, 1_024).ToArray(), blocks[i].Data);
            }
            // Start and stop each changed Running; nothing else happened.
            Assert.All(events, e => Assert.Equal(MessageType.StatusChanged, e.Header.Type));
            Assert.Equal(16_384ul + 81_920ul, Health(host).SamplesTested);
        }
    }

    [Fact]
    public void The_rate_limit_carries_fractions_of_a_byte_and_caps_the_allowance_at_the_fifo()
    {
        (EmulatedRandomNumberGeneratorFirmware device, FirmwareTestHost host, ManualDeviceClock clock) = Attach();
        using (device)
        using (host)
        {
            host.Set(Rng, ParameterId.RngBlockSizeBytes, 0, 16);
            host.Set(Rng, ParameterId.RngRateLimitBytesPerSecond, 0, 1_000);
            host.Request(Rng, MessageType.RngStartStream);
            clock.Advance(499_999_999_999);           // 499.999999999 bytes: 31 blocks (496), 3.999999999 left over
            Take(host, 31);
            clock.Advance(12_000_000_001);            // + 12.000000001 bytes = exactly 16: the 32nd block
            Take(host, 32 - 31);
            Assert.Equal(32u, Stop(host).Frames);

            host.Set(Rng, ParameterId.RngBlockSizeBytes, 0, 1_024);
            host.Set(Rng, ParameterId.RngRateLimitBytesPerSecond, 0, 1_024_000);
            host.Request(Rng, MessageType.RngStartStream);
            clock.Advance(TimeSpan.FromSeconds(10));  // 10 MB accrue, but the FIFO holds 256 KiB
            Take(host, 256);
            StreamSummary summary = Stop(host);
            Assert.Equal(256u, summary.Frames);
            Assert.Equal((ulong)EmulatedRandomNumberGeneratorFirmware.MaxAllowanceBytes, summary.Items);
        }
    }

    [Fact]
    public void A_stuck_source_fails_the_devices_repetition_count_test_its_blocks_are_withheld_and_it_recovers_when_cleared()
    {
        (EmulatedRandomNumberGeneratorFirmware device, FirmwareTestHost host, ManualDeviceClock clock) = Attach();
        using (device)
        using (host)
        {
            host.Request(Rng, MessageType.RngStartStream);
            clock.Advance(TimeSpan.FromMilliseconds(1));
            var (first, _) = Take(host, 1);

            device.InjectStuck(true);
            clock.Advance(TimeSpan.FromMilliseconds(3)); // blocks 1..3: all stuck, all withheld
            ReceivedFrame failure = host.Next()!;
            Assert.Equal(MessageType.RngHealthChanged, failure.Header.Type);
            RngHealthReport failed = RngHealthReport.Read(failure.Payload);
            Assert.Equal(RngHealthFlags.StartupTestPassed | RngHealthFlags.ContinuousTestFailure, failed.Flags);
            // The whole block is tested before the event: a run of 1s trips the cutoff of 41 every 41 samples of its 8192.
            Assert.InRange(failed.RepetitionCountFailures, 199ul, 200ul);
            Assert.Equal(1_024ul, failed.BytesWithheld);
            Assert.True(failed.IsFailing);

            device.ClearNoiseFault();
            // Recovery needs 16 384 passing samples: two good blocks; the block in which it completes is withheld too.
            clock.Advance(TimeSpan.FromMilliseconds(3));
            var (after, events) = Take(host, 1);
            ReceivedFrame recovered = Assert.Single(events);
            Assert.Equal(MessageType.RngHealthChanged, recovered.Header.Type);
            Assert.Equal(RngHealthFlags.StartupTestPassed, RngHealthReport.Read(recovered.Payload).Flags);
            Assert.Equal(1u, after[0].Sequence);                // nothing lost on the line ...
            Assert.Equal(6L * 1_024, after[0].Offset);          // ... but blocks 1..5 withheld
            // The stuck blocks drew nothing from the generator: blocks 4, 5 and 6 are its bytes after block 0's.
            byte[] source = SourceBytes(EmulatedRandomNumberGeneratorFirmware.StartupBytes + 1_024 * 4);
            Assert.Equal(source.AsSpan(EmulatedRandomNumberGeneratorFirmware.StartupBytes + 3 * 1_024, 1_024).ToArray(), after[0].Data);

            RngHealthReport health = Health(host);
            Assert.Equal(5ul * 1_024, health.BytesWithheld);
            Assert.True(health.RepetitionCountFailures >= 3 * 8_192 / 41 - 1, $"{health.RepetitionCountFailures} failures");
            StreamSummary summary = Stop(host);
            Assert.Equal(2u, summary.Frames);
            Assert.Equal(2_048ul, summary.Items);
            Assert.Single(first);
        }
    }

    [Fact]
    public void A_biased_source_fails_the_devices_adaptive_proportion_test()
    {
        (EmulatedRandomNumberGeneratorFirmware device, FirmwareTestHost host, ManualDeviceClock clock) = Attach();
        using (device)
        using (host)
        {
            host.Set(Rng, ParameterId.RngProportionCutoffSamples, 0, 589); // H = 1, alpha = 2^-20
            device.InjectBias(0.6);
            host.Request(Rng, MessageType.RngStartStream);
            clock.Advance(TimeSpan.FromMilliseconds(4)); // 32 windows; one trips with probability about 0.57 each
            ReceivedFrame? failure;
            do failure = host.Next();
            while (failure is not null && failure.Header.Type != MessageType.RngHealthChanged);
            Assert.NotNull(failure);
            RngHealthReport failed = RngHealthReport.Read(failure.Payload);
            Assert.True((failed.Flags & RngHealthFlags.ContinuousTestFailure) != 0);
            Assert.True(failed.AdaptiveProportionFailures >= 1);
            Assert.Equal(0ul, failed.RepetitionCountFailures);
            Assert.Equal(NoiseFault.Biased, device.Fault);
            Assert.True(Stop(host).Frames < 4, "the failing blocks were sent");
        }
    }

    [Fact]
    public void A_source_fault_stops_production_sets_fault_and_clearing_it_reruns_the_start_up_test()
    {
        (EmulatedRandomNumberGeneratorFirmware device, FirmwareTestHost host, ManualDeviceClock clock) = Attach();
        using (device)
        using (host)
        {
            host.Request(Rng, MessageType.RngStartStream);
            host.Next(); // StatusChanged: Running
            device.InjectSourceFault();
            ReceivedFrame health = host.Next()!;
            Assert.Equal(MessageType.RngHealthChanged, health.Header.Type);
            Assert.Equal(RngHealthFlags.SourceFault, RngHealthReport.Read(health.Payload).Flags);
            ReceivedFrame status = host.Next()!;
            Assert.Equal(MessageType.StatusChanged, status.Header.Type);
            Assert.True((StatusChange.Read(status.Payload).After & StatusFlags.Fault) != 0);

            clock.Advance(TimeSpan.FromMilliseconds(5));
            RngHealthReport during = Health(host);   // answered after whatever the device sent meanwhile
            Assert.Equal(RngHealthFlags.SourceFault, during.Flags);
            Assert.Equal(1u, during.SourceFaults);
            Assert.Equal(16_384ul, during.SamplesTested); // nothing produced
            Assert.DoesNotContain(host.SetAside, f => f.Header.IsStream);

            device.ClearSourceFault();
            Assert.Equal(RngHealthFlags.StartupTestPassed, RngHealthReport.Read(host.Next()!.Payload).Flags);
            Assert.Equal(StatusFlags.None, StatusChange.Read(host.Next()!.Payload).After & StatusFlags.Fault);
            Assert.Equal(32_768ul, Health(host).SamplesTested); // a second start-up test
            clock.Advance(TimeSpan.FromMilliseconds(1));
            var (blocks, _) = Take(host, 1);
            Assert.Equal(0L, blocks[0].Offset); // the allowance kept accruing, but the source produced nothing before
        }
    }

    [Fact]
    public void Stream_requests_follow_the_document()
    {
        (EmulatedRandomNumberGeneratorFirmware device, FirmwareTestHost host, ManualDeviceClock clock) = Attach();
        using (device)
        using (host)
        {
            Assert.Equal(new StreamSummary(0, 0), Stop(host)); // never streamed: zeros
            Assert.Empty(host.Request(Rng, MessageType.RngStartStream).Payload);
            Assert.True(device.IsStreaming);
            ReceivedFrame twice = host.Request(Rng, MessageType.RngStartStream);
            Assert.Equal(ErrorCode.InvalidState, twice.Nack.Code);
            Assert.Contains("already streaming", twice.Nack.Text);
            Assert.Equal(ErrorCode.MalformedPayload, host.Request(Rng, MessageType.RngGetHealth, [1]).Nack.Code);
            Assert.Contains("RngStopStream", host.Request(Rng, MessageType.RngStopStream, [1]).Nack.Text);
            Assert.Equal(ErrorCode.UnknownMessage, host.Request(Rng, MessageType.RngEntropyData).Nack.Code);

            // A new block size applies from the next block.
            clock.Advance(TimeSpan.FromMilliseconds(1));
            Take(host, 1);
            host.Set(Rng, ParameterId.RngBlockSizeBytes, 0, 512);
            clock.Advance(TimeSpan.FromMilliseconds(1));
            var (blocks, _) = Take(host, 2);
            Assert.Equal(512, blocks[0].Data.Length);
            Assert.Equal(1_024L, blocks[0].Offset);
            Assert.Equal(1_536L, blocks[1].Offset);
            Assert.Equal(3u, Stop(host).Frames);

            // A restarted stream numbers its frames and offsets from 0 again.
            host.Request(Rng, MessageType.RngStartStream);
            clock.Advance(TimeSpan.FromMilliseconds(1));
            (blocks, _) = Take(host, 1);
            Assert.Equal((0u, 0L), (blocks[0].Sequence, blocks[0].Offset));

            DeviceStatus status = DeviceStatus.Read(host.Request(Rng, MessageType.GetStatus).Payload);
            Assert.Equal(StatusFlags.Ready | StatusFlags.Running, status.Flags);
            Assert.Equal(0ul, status.ItemsLost);
        }
    }

    [Fact]
    public void Unplugging_ends_the_stream()
    {
        (EmulatedRandomNumberGeneratorFirmware device, FirmwareTestHost host, _) = Attach();
        using (device)
        using (host)
        {
            host.Request(Rng, MessageType.RngStartStream);
            device.Unplug();
            Assert.False(device.IsStreaming);
            Assert.Equal(StatusFlags.Ready, device.Flags);
        }
    }
}
