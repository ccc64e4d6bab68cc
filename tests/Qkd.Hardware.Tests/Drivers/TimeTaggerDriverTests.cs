using Qkd.Hardware.Tests.Support;
using Qkd.Core.TimeTags;
using Qkd.Emulation.Firmware;
using Qkd.Emulation.Hosting;
using Qkd.Protocol;
using Qkd.Hardware.TimeTagger;
using Qkd.Hardware.Devices;
using Qkd.Core.Rings;

namespace Qkd.Hardware.Tests.Drivers;

/// <summary>The time-tagger driver against the emulated tagger firmware, in process and over a real pty.</summary>
public sealed class TimeTaggerDriverTests
{
    private static (EmulatedTimeTaggerFirmware Firmware, EmulatedDeviceConnector Connector, ProtocolTimeTagger Tagger) Open(
        TimeTag[] physics, EmulatedDeviceTransport transport = EmulatedDeviceTransport.InProcess, int ringCapacity = 1 << 18)
        => Open(new ListTagSource(physics), transport, ringCapacity);

    private static (EmulatedTimeTaggerFirmware Firmware, EmulatedDeviceConnector Connector, ProtocolTimeTagger Tagger) Open(
        ListTagSource source, EmulatedDeviceTransport transport = EmulatedDeviceTransport.InProcess, int ringCapacity = 1 << 18)
    {
        var firmware = new EmulatedTimeTaggerFirmware(() => source, "TT-0042", inputs: 8);
        var connector = new EmulatedDeviceConnector(firmware, transport, SerialPorts.Open);
        var tagger = new ProtocolTimeTagger(connector, new DeviceConnectionOptions { ReplyTimeout = TimeSpan.FromSeconds(2) }, ringCapacity);
        tagger.Connect();
        return (firmware, connector, tagger);
    }

    /// <summary>Reads until the stream ends; a disconnect is retried after a short wait, as the acquisition loop does.</summary>
    private static List<TimeTag> ReadAll(ProtocolTimeTagger tagger, Action<long>? afterTags = null, List<string>? outages = null)
    {
        var all = new List<TimeTag>();
        var buffer = new TimeTag[777];
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            int n;
            try
            {
                n = tagger.Read(buffer, TestContext.Current.CancellationToken);
            }
            catch (TimeTagSourceDisconnectedException e)
            {
                outages?.Add(e.Message);
                Thread.Sleep(10);
                continue;
            }
            if (n == 0) return all;
            all.AddRange(buffer.AsSpan(0, n).ToArray());
            afterTags?.Invoke(all.Count);
        }
        throw new TimeoutException("the stream did not end");
    }

    [Theory]
    [InlineData(EmulatedDeviceTransport.InProcess, 50_000)]
    [InlineData(EmulatedDeviceTransport.PseudoTerminal, 20_000)]
    public void Every_tag_arrives_once_in_order_and_the_stream_ends_with_the_physics(EmulatedDeviceTransport transport, int count)
    {
        var physics = ListTagSource.Regular(count);
        var (firmware, connector, tagger) = Open(physics, transport);
        using (firmware)
        using (connector)
        using (tagger)
        {
            tagger.StartStream();
            var tags = ReadAll(tagger);
            Assert.Equal(physics, tags);
            Assert.Equal(count, tagger.StreamCounters.Tags);
            Assert.Equal(0, tagger.StreamCounters.FramesLost);
            Assert.Equal(0, tagger.Counters["rx.framesRejected"]);
        }
    }

    [Fact]
    public void Input_delays_set_through_the_driver_shift_that_input_only()
    {
        var physics = ListTagSource.Regular(4_000);
        var (firmware, connector, tagger) = Open(physics);
        using (firmware)
        using (connector)
        using (tagger)
        {
            tagger.SetInputDelayPs(2, 250);
            Assert.Equal(250, tagger.GetInputDelayPs(2));
            tagger.StartStream();
            var tags = ReadAll(tagger);
            var expected = physics.Select(t => t.Channel == 2 ? new TimeTag(t.TimePs + 250, 2) : t).OrderBy(t => t.TimePs).ToList();
            Assert.Equal(expected, tags);
        }
    }

    [Fact]
    public void A_device_overflow_reaches_the_tag_stream_in_band_with_its_exact_count()
    {
        var physics = ListTagSource.Regular(30_000);
        var (firmware, connector, tagger) = Open(physics);
        using (firmware)
        using (connector)
        using (tagger)
        {
            firmware.InjectOverflow(1_234);
            tagger.StartStream();
            var tags = ReadAll(tagger);
            var events = tags.Where(t => t.IsEvent).ToList();
            Assert.Equal(30_000 - 1_234, events.Count);
            var end = Assert.Single(tags, t => t.Kind == TimeTagKind.OverflowEnd);
            Assert.Equal(1_234u, end.MissedEvents);
            Assert.Single(tags, t => t.Kind == TimeTagKind.OverflowBegin);
            SpinWait.SpinUntil(() => tagger.StreamCounters.OverflowEvents == 1, TimeSpan.FromSeconds(5));
            Assert.Equal(1_234, tagger.StreamCounters.OverflowTagsLost);
        }
    }

    [Fact(Timeout = 60_000)]
    public void An_unplugged_tagger_is_a_typed_outage_and_the_stream_resumes_after_replug_without_duplicates()
    {
        var physics = ListTagSource.Regular(200_000);
        // The physics holds at tag 100,000 until the cable has been pulled, so the device cannot stream its whole
        // physics (and report the end of it) before the unplug, however the threads are scheduled.
        var source = new ListTagSource(physics, holdAt: 100_000);
        var (firmware, connector, tagger) = Open(source, ringCapacity: 1 << 12);
        using (firmware)
        using (connector)
        using (tagger)
        {
            tagger.StartStream();
            var outages = new List<string>();
            bool pulled = false;
            Task? pull = null;
            var tags = ReadAll(tagger, afterTags: n =>
            {
                if (pulled || n < 50_000) return;
                pulled = true;
                // The cable is pulled by someone else while the host goes on reading (the emulated device's unplug
                // waits for a write in progress, which needs the host to keep draining). The device keeps running
                // while unplugged: 10 ns of device time (10 tags) are lost.
                pull = Task.Run(() =>
                {
                    try
                    {
                        firmware.Unplug(10_000);
                        connector.Unplug();
                    }
                    finally
                    {
                        source.Release();
                    }
                    Thread.Sleep(100);
                    connector.Replug();
                });
            }, outages);
            pull?.GetAwaiter().GetResult();

            var events = tags.Where(t => t.IsEvent).ToList();
            Assert.NotEmpty(outages);
            Assert.All(outages, o => Assert.Contains("TT-0042", o));
            Assert.Equal(1, tagger.Disconnects);
            Assert.True(tagger.Reconnects >= 1);
            // No tag twice, none out of order; the only ones missing are the device-time span lost while unplugged.
            Assert.Equal(events.Count, events.Select(t => t.TimePs).Distinct().Count());
            Assert.True(events.Zip(events.Skip(1)).All(p => p.First.TimePs < p.Second.TimePs));
            long lost = physics.Length - events.Count;
            Assert.InRange(lost, 9, 11);
            Assert.Contains(tags, t => t.Kind == TimeTagKind.OverflowBegin);
            Assert.Contains(tags, t => t.Kind == TimeTagKind.OverflowEnd);
            Assert.Equal(0, tagger.StreamCounters.FramesDuplicated);
        }
    }

    [Fact(Timeout = 60_000)]
    public void A_full_drop_newest_ring_drops_whole_frames_counts_every_tag_and_marks_the_gap()
    {
        // The physics holds at tag 30,000 while nobody reads: the ring (8192 tags) takes what fits, whole frames, and
        // drops the rest. Then the host drains the ring and the physics goes on: the first frame that fits closes the
        // gap with an OverflowBegin at the last tag delivered before it and an OverflowEnd at its own first tag.
        const int total = 60_000, holdAt = 30_000;
        var physics = ListTagSource.Regular(total);
        var source = new ListTagSource(physics, holdAt: holdAt);
        var firmware = new EmulatedTimeTaggerFirmware(() => source, "TT-0042", inputs: 8);
        var connector = new EmulatedDeviceConnector(firmware, EmulatedDeviceTransport.InProcess, SerialPorts.Open);
        var tagger = new ProtocolTimeTagger(connector, new DeviceConnectionOptions { ReplyTimeout = TimeSpan.FromSeconds(2) }, 1 << 13, OverflowPolicy.DropNewest);
        using (firmware)
        using (connector)
        using (tagger)
        {
            tagger.Connect();
            tagger.StartStream();
            // Every tag before the hold point has been decoded (delivered or dropped) once the counter says so.
            Assert.True(SpinWait.SpinUntil(() => Interlocked.Read(ref tagger.StreamCounters.Tags) == holdAt, TimeSpan.FromSeconds(30)));
            Assert.True(tagger.Dropped > 0);
            Assert.True(tagger.Buffered <= tagger.BufferCapacity);
            var tags = new List<TimeTag>();
            var buffer = new TimeTag[1000];
            while (tagger.Buffered > 0)
            {
                int n = tagger.Read(buffer, TestContext.Current.CancellationToken);
                tags.AddRange(buffer.AsSpan(0, n).ToArray());
            }
            long droppedWhileHeld = tagger.Dropped;
            source.Release();
            tags.AddRange(ReadAll(tagger));

            var events = tags.Where(t => t.IsEvent).ToList();
            Assert.Equal(total, events.Count + tagger.Dropped);
            Assert.True(tagger.Dropped >= droppedWhileHeld);
            Assert.Equal(0, tagger.StreamCounters.TagsDiscarded);
            Assert.Equal(total, tagger.StreamCounters.Tags);
            // What arrived is the physics minus the dropped tags, in order, each once.
            Assert.True(events.Zip(events.Skip(1)).All(p => p.First.TimePs < p.Second.TimePs));
            Assert.Empty(events.Select(t => t.TimePs).Except(physics.Select(t => t.TimePs)));
            // Each gap is bracketed: OverflowBegin at the last tag before it, OverflowEnd at the first after it.
            var begins = tags.Select((t, i) => (t, i)).Where(x => x.t.Kind == TimeTagKind.OverflowBegin).ToList();
            Assert.NotEmpty(begins);
            Assert.Equal(begins.Count, tags.Count(t => t.Kind == TimeTagKind.OverflowEnd));
            // A busy reader can let the ring fill again after the release; when the stream then ends on dropped frames,
            // that last gap has no frame after it to carry its markers, so it is counted but never bracketed.
            long unbracketed = tagger.StreamCounters.GapsMarked - begins.Count;
            Assert.InRange(unbracketed, 0, 1);
            if (unbracketed == 1) Assert.True(events[^1].TimePs < physics[^1].TimePs, "only a gap the stream ended in goes unbracketed");
            foreach (var (begin, i) in begins)
            {
                Assert.Equal(tags[i - 1].TimePs, begin.TimePs);
                Assert.Equal(TimeTagKind.OverflowEnd, tags[i + 1].Kind);
                Assert.Equal(tags[i + 2].TimePs, tags[i + 1].TimePs);
            }
        }
    }

    [Fact]
    public void A_drop_newest_ring_must_hold_a_whole_frame()
    {
        var connector = new EmulatedDeviceConnector(new EmulatedTimeTaggerFirmware(() => new ListTagSource([])), EmulatedDeviceTransport.InProcess, SerialPorts.Open);
        using (connector)
            Assert.Equal("ringCapacity", Assert.Throws<ArgumentOutOfRangeException>(() => new ProtocolTimeTagger(connector, null, 1 << 12, OverflowPolicy.DropNewest)).ParamName);
    }
}
