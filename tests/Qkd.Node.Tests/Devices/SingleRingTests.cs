using System.Diagnostics.Metrics;
using Qkd.Acquisition;
using Qkd.Acquisition.Loop;
using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.Rings;
using Qkd.Core.TimeTags;
using Qkd.Emulation.Firmware;
using Qkd.Emulation.Hosting;
using Qkd.Hardware.Devices;
using Qkd.Hardware.TimeTagger;
using Qkd.Protocol;
using Qkd.Protocol.Messages;

namespace Qkd.Node.Tests.Devices;

/// <summary>
/// The one ring between the tagger and clock recovery: the tagger driver's reader thread decodes TagData frames into
/// its ring, and the front end's acquisition loop reads that ring directly (no second ring, no copying thread).
/// </summary>
public sealed class SingleRingTests
{
    /// <summary>The emulated tagger's physics: tags 0..count-1 every 1000 ps on inputs 1..4 in turn, then the end.</summary>
    private sealed class RegularTags(int count) : ITimeTagSource
    {
        private int _next;

        public string Name => "regular tags";

        public int Read(Span<TimeTag> destination, CancellationToken cancellationToken = default)
        {
            int n = Math.Min(Math.Min(destination.Length, 1000), count - _next);
            for (int i = 0; i < n; i++, _next++) destination[i] = new TimeTag(1_000_000 + _next * 1000L, (ushort)(1 + _next % 4));
            return n;
        }
    }

    [Fact(Timeout = 60_000)]
    public void Tags_the_full_ring_drops_are_counted_in_the_acquisition_counters_and_metrics()
    {
        const int total = 50_000;
        using var firmware = new EmulatedTimeTaggerFirmware(() => new RegularTags(total), "TT-0007", inputs: 8);
        using var connector = new EmulatedDeviceConnector(firmware, EmulatedDeviceTransport.InProcess);
        using var tagger = new ProtocolTimeTagger(connector, new DeviceConnectionOptions { ReplyTimeout = TimeSpan.FromSeconds(2) }, 1 << 13, OverflowPolicy.DropNewest);
        // Handlers run in subscription order on the connection's one reader, after every TagData frame before the event.
        using var streamEnded = new ManualResetEventSlim();
        tagger.EventReceived += e =>
        {
            if (e.Type == MessageType.StatusChanged && (StatusChange.Read(e.Payload).After & StatusFlags.Running) == 0) streamEnded.Set();
        };
        tagger.Connect();
        using var frontEnd = new TimeTagFrontEnd(tagger, new ClockRecoveryOptions(), ReceiverLayout.PassiveFourDetector, new Xoshiro256StarStar(3));
        using var metrics = new AcquisitionMetrics("tagger", frontEnd.Loop.Counters, () => (frontEnd.RingFill, frontEnd.RingCapacity));
        Assert.False(frontEnd.Loop.HasOwnThread);
        Assert.Equal(1 << 13, frontEnd.RingCapacity);
        frontEnd.Start();
        tagger.StartStream();

        // Nobody reads until the device's whole stream is in: the ring keeps what fits (whole frames), drops the rest.
        Assert.True(streamEnded.Wait(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken));
        long dropped = -1;
        using (var listener = new MeterListener())
        {
            listener.InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Meter.Name == AcquisitionMetrics.MeterName) l.EnableMeasurementEvents(instrument);
            };
            listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
            {
                if (instrument.Name == "qkd.acquisition.dropped") dropped = value;
            });
            listener.Start();
            listener.RecordObservableInstruments();
        }
        Assert.True(tagger.Dropped > 0);
        Assert.True(tagger.Dropped <= total - 4_095);
        Assert.Equal(tagger.Dropped, dropped);

        var tags = new List<TimeTag>();
        var buffer = new TimeTag[1000];
        int n;
        while ((n = frontEnd.Loop.Read(buffer, TestContext.Current.CancellationToken)) > 0) tags.AddRange(buffer.AsSpan(0, n).ToArray());

        var snapshot = frontEnd.Loop.Counters.Snapshot();
        Assert.Equal(tagger.Dropped, snapshot.DroppedByRing);
        Assert.Equal(total, tags.Count(t => t.IsEvent) + snapshot.DroppedByRing);
        Assert.Equal(tags.Count, snapshot.Tags);
        Assert.Equal(total, tagger.StreamCounters.Tags);
        Assert.Equal(AcquisitionState.Stopped, frontEnd.Loop.State);
    }
}
