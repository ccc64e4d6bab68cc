using System.Diagnostics;
using Qkd.Acquisition;
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
/// acquisition loop reading it, clock recovery, decoder), summarised every interval into count rates per channel, the sync rate, ring fill,
/// losses and, with Alice's emission log at hand, the live QBER per basis. Runs until cancelled or the emission ends.
/// </summary>
public static class LinkMonitor
{
    public static IReadOnlyList<MonitorSnapshot> Run(LinkRig rig, LinkProfile profile, LinkSettings settings, ISymbolSource symbols, long pulses,
        TimeSpan interval, Action<MonitorSnapshot> onSnapshot, CancellationToken cancellationToken)
    {
        var taggerOptions = EmulatedLinkRunner.TaggerOptionsFor(settings, long.MaxValue);
        var snapshots = new List<MonitorSnapshot>();
        var emission = rig.StartEmission(symbols, pulses);
        using var frontEnd = new TimeTagFrontEnd(emission, EmulatedLinkRunner.ClockRecoveryOptionsFor(profile, settings, taggerOptions), profile.ReceiverLayout,
            Xoshiro256StarStar.ForStream(1, "monitor-squashing"));
        frontEnd.Start();
        var watch = Stopwatch.StartNew();
        var lastPerChannel = new long[Qkd.Acquisition.Loop.AcquisitionCounters.MaxChannels];
        long lastSync = 0;
        TimeSpan lastTime = TimeSpan.Zero;
        double lastLinkSeconds = 0;
        long[] sifted = new long[2], errors = new long[2];
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
                foreach (ref readonly Detection d in buffer.AsSpan(0, n))
                {
                    var sent = symbols.SymbolAt(d.PulseIndex);
                    if (sent.Basis != d.Basis) continue;
                    sifted[(int)d.Basis]++;
                    if (sent.Bit != d.Bit) errors[(int)d.Basis]++;
                }
                var now = watch.Elapsed;
                if (now - lastTime < interval && !ended) continue;
                // Rates per second of the tagger's own time (recovered from the sync), so an emulated link that runs
                // faster or slower than real time still shows physical rates; on hardware the two agree.
                double linkSeconds = Math.Max(0, frontEnd.Clock.LastSyncPulse) / settings.PulseRateHz;
                double seconds = linkSeconds - lastLinkSeconds;
                if (seconds <= 0) { if (!ended) continue; break; } // the end brought no new link time: nothing to report
                lastLinkSeconds = linkSeconds;
                var acquisition = frontEnd.Loop.Counters.Snapshot();
                var rates = new double[acquisition.TagsPerChannel.Count];
                for (int c = 0; c < rates.Length; c++)
                {
                    rates[c] = (acquisition.TagsPerChannel[c] - lastPerChannel[c]) / seconds;
                    lastPerChannel[c] = acquisition.TagsPerChannel[c];
                }
                long sync = acquisition.TagsPerChannel[taggerOptions.SyncChannel];
                var streamCounters = rig.Tagger.StreamCounters;
                var snapshot = new MonitorSnapshot(now, rates, (sync - lastSync) / seconds, frontEnd.RingFill, frontEnd.RingCapacity,
                    // The tagger's ring is the one ring: its discards are in DroppedByRing.
                    acquisition.DroppedByRing + acquisition.MissedEvents,
                    acquisition.Overflows + Interlocked.Read(ref streamCounters.FramesLost),
                    sifted[0] > 0 ? (double)errors[0] / sifted[0] : double.NaN, sifted[1] > 0 ? (double)errors[1] / sifted[1] : double.NaN, detections);
                lastSync = sync;
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
