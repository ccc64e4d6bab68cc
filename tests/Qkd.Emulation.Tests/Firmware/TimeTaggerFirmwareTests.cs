using Qkd.Core.TimeTags;
using Qkd.Emulation.Firmware;
using Qkd.Protocol;
using Qkd.Protocol.Messages;

namespace Qkd.Emulation.Tests.Firmware;

/// <summary>The emulated time tagger's stream: framing, input stage (delay, enable, test signal), overflow, stop/start.</summary>
public sealed class TimeTaggerFirmwareTests
{
    private const DeviceClass Tagger = DeviceClass.TimeTagger;

    private static (EmulatedTimeTaggerFirmware Device, FirmwareTestHost Host) Attach(ITimeTagSource source)
    {
        var device = new EmulatedTimeTaggerFirmware(() => source, clock: new ManualDeviceClock());
        (FirmwareTestHost host, var deviceEnd) = FirmwareTestHost.Connect("tagger");
        device.Plug(deviceEnd);
        return (device, host);
    }

    private static List<TimeTag> Ramp(int count, long spacingPs = 1_000, int channels = 4, long startPs = 1_000) =>
        GatedTagSource.Ramp(startPs, count, spacingPs, channels).ToList();

    [Fact]
    public void Tags_stream_unchanged_in_frames_from_sequence_zero_and_the_end_of_the_physics_stops_the_stream()
    {
        List<TimeTag> input = Ramp(10_000);
        (EmulatedTimeTaggerFirmware device, FirmwareTestHost host) = Attach(new ListTagSource(input, chunk: 3000));
        using (device)
        using (host)
        {
            ReceivedFrame start = host.Request(Tagger, MessageType.TaggerStartStream);
            Assert.Equal(FrameFlags.Response, start.Header.Flags);
            Assert.Empty(start.Payload);
            List<TimeTag> output = host.ReadStreamUntilStopped();
            Assert.Equal(input, output);
            StreamSummary summary = StreamSummary.Read(host.Request(Tagger, MessageType.TaggerStopStream).Payload);
            Assert.Equal(10_000ul, summary.Items);
            Assert.True(summary.Frames >= 3);
            Assert.False(device.IsStreaming);
            AssertNackCode(host.Request(Tagger, MessageType.TaggerStartStream, [0]), ErrorCode.MalformedPayload);
        }
    }

    [Fact]
    public void Input_delays_shift_tags_and_the_stream_stays_in_time_order()
    {
        List<TimeTag> input = Ramp(8_000);
        (EmulatedTimeTaggerFirmware device, FirmwareTestHost host) = Attach(new ListTagSource(input, chunk: 700));
        using (device)
        using (host)
        {
            long[] delays = [0, 2_500, -700, 12_345];
            for (byte ch = 0; ch < 4; ch++) host.Set(Tagger, ParameterId.TaggerInputDelayPs, ch, delays[ch]);
            host.Request(Tagger, MessageType.TaggerStartStream);
            List<TimeTag> output = host.ReadStreamUntilStopped();
            var expected = input.Select(t => new TimeTag(t.TimePs + delays[t.Channel], t.Channel)).OrderBy(t => t.TimePs).ToList();
            Assert.Equal(expected, output);
            Assert.Equal(0, device.OrderClamps);
        }
    }

    [Fact]
    public void Disabled_inputs_vanish_and_test_signal_inputs_carry_the_periodic_signal()
    {
        List<TimeTag> input = Ramp(4_000);
        (EmulatedTimeTaggerFirmware device, FirmwareTestHost host) = Attach(new ListTagSource(input, chunk: 999));
        using (device)
        using (host)
        {
            host.Set(Tagger, ParameterId.TaggerChannelEnabled, 3, 0);
            host.Set(Tagger, ParameterId.TaggerTestSignalEnabled, 2, 1);
            host.Set(Tagger, ParameterId.TaggerTestSignalPeriodPs, 0, 5_000);
            host.Set(Tagger, ParameterId.TaggerInputDelayPs, 2, 100);
            host.Request(Tagger, MessageType.TaggerStartStream);
            List<TimeTag> output = host.ReadStreamUntilStopped();

            Assert.DoesNotContain(output, t => t.Channel == 3);
            Assert.Equal(input.Where(t => t.Channel < 2), output.Where(t => t.Channel < 2));
            long last = input[^1].TimePs;
            var test = output.Where(t => t.Channel == 2).Select(t => t.TimePs).ToList();
            var expectedTest = Enumerable.Range(1, (int)(last / 5_000)).Select(k => k * 5_000L + 100).ToList();
            Assert.Equal(expectedTest, test);
            for (int i = 1; i < output.Count; i++) Assert.True(output[i].TimePs >= output[i - 1].TimePs);
        }
    }

    [Fact]
    public void Injected_overflow_drops_exactly_that_many_tags_and_reports_them_in_band_and_by_event()
    {
        List<TimeTag> input = Ramp(5_000);
        (EmulatedTimeTaggerFirmware device, FirmwareTestHost host) = Attach(new ListTagSource(input, chunk: 1000));
        using (device)
        using (host)
        {
            device.InjectOverflow(1_234);
            host.Request(Tagger, MessageType.TaggerStartStream);
            var events = new List<ReceivedFrame>();
            List<TimeTag> output = host.ReadStreamUntilStopped(events);

            Assert.Equal(new TimeTag(input[0].TimePs, 0, TimeTagKind.OverflowBegin), output[0]);
            Assert.Equal(new TimeTag(input[1_233].TimePs, 0, TimeTagKind.OverflowEnd, 1_234), output[1]);
            Assert.Equal(input.Skip(1_234), output.Skip(2));
            OverflowReport report = OverflowReport.Read(events.Single(e => e.Header.Type == MessageType.Overflow).Payload);
            Assert.Equal(new OverflowReport(1_234, input[0].TimePs, input[1_233].TimePs), report);
            DeviceStatus status = DeviceStatus.Read(host.Request(Tagger, MessageType.GetStatus).Payload);
            Assert.Equal(1_234ul, status.ItemsLost);
            Assert.True((status.Flags & StatusFlags.DataLost) != 0);
            Assert.Equal(3_768ul, StreamSummary.Read(host.Request(Tagger, MessageType.TaggerStopStream).Payload).Items); // the two records count
        }
    }

    [Fact]
    public void Stop_answers_with_the_summary_nothing_follows_it_and_a_restart_continues_the_physics()
    {
        var source = new GatedTagSource();
        (EmulatedTimeTaggerFirmware device, FirmwareTestHost host) = Attach(source);
        using (device)
        using (host)
        {
            host.Request(Tagger, MessageType.TaggerStartStream);
            AssertNackCode(host.Request(Tagger, MessageType.TaggerStartStream), ErrorCode.InvalidState);
            source.Release(GatedTagSource.Ramp(1_000, 100, 1_000));
            List<TimeTag> first = ReadTags(host, 100, out int frames);
            StreamSummary summary = StreamSummary.Read(host.Request(Tagger, MessageType.TaggerStopStream).Payload);
            Assert.Equal(new StreamSummary(100, (uint)frames), summary);

            source.Release(GatedTagSource.Ramp(101_000, 50, 1_000));
            Thread.Sleep(300); // nothing of the stopped stream may arrive
            Assert.DoesNotContain(host.Frames.ToArray().Concat(host.SetAside), f => f.Header.IsStream);

            host.Request(Tagger, MessageType.TaggerStartStream);
            List<TimeTag> second = ReadTags(host, 50, firstSequence: 0);
            Assert.Equal(GatedTagSource.Ramp(101_000, 50, 1_000), second);
            Assert.Equal(GatedTagSource.Ramp(1_000, 100, 1_000), first);
        }
    }

    [Fact]
    public void Unplug_loses_the_tags_of_the_given_device_time_and_the_restarted_stream_reports_the_gap()
    {
        var source = new GatedTagSource();
        (EmulatedTimeTaggerFirmware device, FirmwareTestHost host) = Attach(source);
        using (device)
        {
            host.Request(Tagger, MessageType.TaggerStartStream);
            source.Release(GatedTagSource.Ramp(0, 1_000, 1_000));
            Assert.Equal(1_000, ReadTags(host, 1_000).Count);

            device.Unplug(lostPicoseconds: 50_000);
            Assert.False(device.IsAttached);
            Assert.True(SpinWait.SpinUntil(() => host.LineClosed, FirmwareTestHost.Patience), "the host did not see the device go");
            host.Dispose();

            source.Release(GatedTagSource.Ramp(1_000_000, 1_000, 1_000)); // the physics goes on
            (FirmwareTestHost again, var deviceEnd) = FirmwareTestHost.Connect("tagger again");
            using (again)
            {
                device.Plug(deviceEnd);
                Assert.Equal(0u, (uint)(DeviceStatus.Read(again.Request(Tagger, MessageType.GetStatus).Payload).Flags & StatusFlags.Running));
                again.Request(Tagger, MessageType.TaggerStartStream);
                List<TimeTag> resumed = ReadTags(again, 2 + 950);
                Assert.Equal(new TimeTag(1_000_000, 0, TimeTagKind.OverflowBegin), resumed[0]);
                Assert.Equal(new TimeTag(1_049_000, 0, TimeTagKind.OverflowEnd, 50), resumed[1]);
                Assert.Equal(GatedTagSource.Ramp(1_050_000, 950, 1_000), resumed.Skip(2));
                Assert.Equal(50ul, DeviceStatus.Read(again.Request(Tagger, MessageType.GetStatus).Payload).ItemsLost);
            }
        }
    }

    internal static void AssertNackCode(ReceivedFrame response, ErrorCode code)
    {
        Assert.True(response.Header.IsNack);
        Assert.Equal(code, response.Nack.Code);
    }

    /// <summary>Reads TagData frames until <paramref name="count"/> records arrived (events are set aside).</summary>
    internal static List<TimeTag> ReadTags(FirmwareTestHost host, int count, uint firstSequence = 0) => ReadTags(host, count, out _, firstSequence);

    internal static List<TimeTag> ReadTags(FirmwareTestHost host, int count, out int frames, uint firstSequence = 0)
    {
        var tags = new List<TimeTag>();
        var decoded = new TimeTag[TagRecordCodec.MaxRecordsPerFrame];
        uint sequence = firstSequence;
        foreach (ReceivedFrame frame in host.SetAside.Where(f => f.Header.IsStream).ToList())
        {
            host.SetAside.Remove(frame);
            Assert.Equal(sequence++, frame.Header.Sequence);
            tags.AddRange(decoded.AsSpan(0, TagRecordCodec.Read(frame.Payload, decoded, out _)));
        }
        while (tags.Count < count)
        {
            ReceivedFrame frame = host.Next() ?? throw new TimeoutException($"{tags.Count} of {count} tags arrived");
            if (!frame.Header.IsStream)
            {
                host.SetAside.Add(frame);
                continue;
            }
            Assert.Equal(sequence++, frame.Header.Sequence);
            tags.AddRange(decoded.AsSpan(0, TagRecordCodec.Read(frame.Payload, decoded, out _)));
        }
        Assert.Equal(count, tags.Count);
        frames = (int)(sequence - firstSequence);
        return tags;
    }
}
