using System.Diagnostics;
using Qkd.Acquisition;
using Qkd.Calibration;
using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Emulation;
using Qkd.Node.Devices;
using Qkd.Node.Link;
using Qkd.Protocol;

namespace Qkd.Lab;

/// <summary>
/// What `qkd monitor` watches: a link's tag stream through the real acquisition path (tagger driver and its ring, the
/// acquisition loop reading it, clock recovery, decoder), summarised every interval into count rates per channel, the
/// sync rate, ring fill, losses and, with Alice's emission log at hand, the live QBER per basis with its uncertainty
/// (<see cref="CountRateMeter"/>, <see cref="QberTally"/>). Runs until cancelled or the emission ends. Each detector
/// tag is placed on its pulse with the receiver's timing (<see cref="LabReceiverTiming"/>: the calibrated cable
/// delays): without it a bench with nanosecond cables sifts dark counts against the wrong pulses. The share of detector
/// tags inside the acceptance gate is reported with every refresh, so a wrong timing shows.
/// </summary>
public static class LinkMonitor
{
    public static IReadOnlyList<MonitorSnapshot> Run(LinkRig rig, LinkProfile profile, LinkSettings settings, LabReceiverTiming timing, ISymbolSource symbols,
        long pulses, TimeSpan interval, Action<MonitorSnapshot> onSnapshot, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(timing);
        var snapshots = new List<MonitorSnapshot>();
        var emission = rig.StartEmission(symbols, pulses);
        using var frontEnd = new TimeTagFrontEnd(emission, timing.Clock, profile.ReceiverLayout, Xoshiro256StarStar.ForStream(1, "monitor-squashing"));
        frontEnd.Start();
        var watch = Stopwatch.StartNew();
        var rates = new CountRateMeter(Qkd.Acquisition.Loop.AcquisitionCounters.MaxChannels);
        TimeSpan lastTime = TimeSpan.Zero;
        double lastLinkSeconds = 0;
        var qber = new QberTally();
        long detections = 0;
        var buffer = new Detection[1 << 14];
        bool ended = false;
        try
        {
            while (!ended && !cancellationToken.IsCancellationRequested)
            {
                int n = frontEnd.Read(buffer, cancellationToken);
                if (n == 0) ended = true;
                detections += n;
                qber.Add(buffer.AsSpan(0, n), symbols);
                var now = watch.Elapsed;
                if (now - lastTime < interval && !ended) continue;
                // Rates per second of the tagger's own time (recovered from the sync), so an emulated link that runs
                // faster or slower than real time still shows physical rates; on hardware the two agree.
                double linkSeconds = Math.Max(0, frontEnd.Clock.LastSyncPulse) / settings.PulseRateHz;
                double seconds = linkSeconds - lastLinkSeconds;
                if (seconds <= 0) { if (!ended) continue; break; } // the end brought no new link time: nothing to report
                lastLinkSeconds = linkSeconds;
                var acquisition = frontEnd.Loop.Counters.Snapshot();
                double[] ratesHz = rates.Rates(acquisition.TagsPerChannel, seconds);
                var streamCounters = rig.Tagger.StreamCounters;
                var clock = frontEnd.Clock.Counters; // read on this thread, the clock recovery's one consumer
                long placed = clock.AssignedTags + clock.OutOfGate;
                var snapshot = new MonitorSnapshot(now, ratesHz, ratesHz[timing.Clock.SyncChannel], frontEnd.RingFill, frontEnd.RingCapacity,
                    // The tagger's ring is the one ring: its discards are in DroppedByRing.
                    acquisition.DroppedByRing + acquisition.MissedEvents,
                    acquisition.Overflows + Interlocked.Read(ref streamCounters.FramesLost),
                    LabReport.Finite(qber.Qber(Basis.Z)), LabReport.Finite(qber.Qber(Basis.X)), detections)
                {
                    QberZUncertainty = LabReport.Finite(qber.Uncertainty(Basis.Z)),
                    QberXUncertainty = LabReport.Finite(qber.Uncertainty(Basis.X)),
                    SiftedZ = qber.Sifted(Basis.Z),
                    SiftedX = qber.Sifted(Basis.X),
                    InGateFraction = placed > 0 ? (double)clock.AssignedTags / placed : null,
                    IntervalSeconds = seconds,
                };
                lastTime = now;
                snapshots.Add(snapshot);
                onSnapshot(snapshot);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
        }
        if (!ended)
        {
            try { rig.Tagger.StopStream(); }
            catch (Protocol.DeviceException) { }
        }
        else
            emission.EmissionStopped.Wait(TimeSpan.FromSeconds(30));
        return snapshots;
    }
}
