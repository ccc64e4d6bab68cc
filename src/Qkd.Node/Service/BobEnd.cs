using Microsoft.Extensions.Logging;
using Qkd.Acquisition;
using Qkd.Acquisition.Loop;
using Qkd.Core;
using Qkd.Distillation;
using Qkd.Core.Channel;
using Qkd.Hardware.Detector;
using Qkd.Hardware.TimeTagger;
using Qkd.Node.Devices;
using Qkd.Node.Link;
using Qkd.Node.Metrics;
using Qkd.Protocol;
using Qkd.Core.Keys;

namespace Qkd.Node.Service;

/// <summary>
/// Bob's side of one session: learns from Alice what she will emit (refusing an emission whose pulse rate or sync
/// divider differs from his link settings), starts his tagger and tells her it streams, then reads the tagger's ring
/// (the one ring between the tagger and clock recovery, filled by the driver's reader thread) through
/// <see cref="EmissionTagStream"/>, the acquisition loop, clock recovery (which finds the light's arrival phase itself:
/// the fibre delay is not known in advance) and the decoder into his distiller, which finds Alice's pulse numbering
/// against her disclosed pilot (frame synchronisation, so a lost first sync does not shift the key) and drives
/// the protocol over the classical channel and hands finished keys to the pool. The session ends where the announced
/// emission's light ends in the tagger's time: on a real tagger that streams for ever (dark counts) by stopping it, on
/// the emulated one when its stream ends. With <paramref name="metrics"/>, every block's outcome and QBER are counted;
/// the acquisition loop's counters are published for the session either way (meter "Qkd.Acquisition": free while
/// nobody listens). An active receiver goes the same way: before the light comes Bob starts his detector's basis
/// modulation with his own secret basis choices for the whole emission (and the longest fibre delay after it); the
/// decoder reads each click's basis from the same choices, placed by the basis marker clock recovery finds.
/// </summary>
/// With <paramref name="monitor"/>, every block feeds the link monitor, and while it holds key each block's key is withheld at both ends.
public sealed class BobEnd(NodeConfig config, ITimeTagger tagger, IKeySink pool, ILogger logger, NodeMetrics? metrics = null,
    IBasisModulator? basisModulator = null, FrameSyncMetrics? frameSyncMetrics = null, NodeLinkMonitor? monitor = null)
{
    private TimeTagFrontEnd? _frontEnd; // the session's, once it runs: the monitor reads its counters

    /// <summary>What frame synchronisation found in the last session (public information: the pilot is disclosed).</summary>
    public Distillation.FrameSync.FrameSyncResult? LastFrameSync { get; private set; }

    public async Task<SessionSummary> RunSessionAsync(IClassicalChannel channel, long session, CancellationToken cancellationToken)
    {
        var settings = config.LinkSettings();
        // Bob's own secret choice is the squashing of multi-clicks: from the OS CSPRNG unless insecureFixedSeed is set.
        using var choices = ChoiceSources.For(settings, config.SessionInsecureSeed(session));
        if (choices.IsSeeded) logger.LogWarning("Session {Session}: insecureFixedSeed is set: {Warning}", session, ChoiceSources.SeededWarning);
        BobDistiller? distiller = null;
        var feed = monitor?.ForSession(session, settings, config.ReceiverBasisProbabilityZ, () => _frontEnd, () => distiller?.FrameSync?.Offset ?? 0);
        // Concurrent stages: block n is corrected and amplified while block n+1 is sifted, so acquisition keeps up with a
        // tagger streaming in real time (the wire protocol is the same; a sequential peer works too).
        var bob = distiller = new BobDistiller(channel, settings.Distillation() with { ConcurrentStages = true }, new SessionKeySink(pool, session)) { KeyHold = feed is null ? null : feed.KeyHold };
        bob.BlockCompleted += block => logger.LogInformation("Session {Session} block {Block}: {Outcome}, QBER {Qber:P2}, {Bits} secret bits{Reason}",
            session, block.BlockId, block.Outcome, double.IsNaN(block.QberZ) ? block.QberX : block.QberZ, block.SecretBits,
            block.Reason is null ? "" : $" ({block.Reason})");
        if (metrics is not null) bob.BlockCompleted += metrics.BlockCompleted;
        if (feed is not null) bob.BlockCompleted += feed.BlockCompleted;

        var emission = await bob.ReceiveEmissionAnnouncementAsync(cancellationToken).ConfigureAwait(false);
        if (EmissionAgreement.Mismatch(settings, emission) is string mismatch)
        {
            logger.LogError("Session {Session}: {Mismatch}", session, mismatch);
            await bob.RefuseEmissionAsync(mismatch, cancellationToken).ConfigureAwait(false);
            throw new InvalidDataException($"Session {session}: {mismatch}");
        }
        bool active = config.ReceiverLayout == ReceiverLayout.ActiveTwoDetector;
        // The pattern covers the emission and the longest fibre delay after it: the marker is at the first sync slot
        // after the start, and the light of the emission's last pulse comes at most that much later.
        long patternSlots = emission.Pulses + (long)Math.Ceiling(EmissionAgreement.MaxFibreDelayPs * emission.PulseRateHz / 1e12) + settings.PulsesPerSync;
        var bases = active ? choices.ReceiverBases(config.ReceiverBasisProbabilityZ, patternSlots) : null;
        if (active)
        {
            if (basisModulator is null)
                throw new InvalidOperationException($"Session {session}: the receiver is active but Bob's detector has no basis modulator driver.");
            basisModulator.StartBasisModulation(bases!, patternSlots);
        }
        try
        {
            return await ReceiveAsync(channel, session, settings, choices, bases, bob, emission, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (active)
            {
                try
                {
                    var summary = basisModulator!.StopBasisModulation();
                    logger.LogInformation("Session {Session}: basis modulation stopped after {Bases:N0} bases in {Frames:N0} frames", session, summary.Items, summary.Frames);
                }
                catch (Exception e) when (e is Protocol.DeviceException or InvalidOperationException or ObjectDisposedException)
                {
                    logger.LogWarning("Stopping the basis modulation failed: {Error}", e.Message);
                }
            }
        }
    }

    private async Task<SessionSummary> ReceiveAsync(IClassicalChannel channel, long session, LinkSettings settings, ChoiceSources choices,
        Core.Symbols.IBasisChoices? bases, BobDistiller bob, Distillation.Messages.EmissionAnnouncement emission, CancellationToken cancellationToken)
    {
        tagger.StartStream();
        // The fibre delay is not known in advance: clock recovery finds the light's phase within the pulse period, and
        // frame synchronisation against the pilot the whole pulses (and any syncs lost at the start).
        var clock = config.ReceiverClock(settings) with
        {
            PathDelayPs = 0,
            ArrivalPhaseSearchTags = EmissionAgreement.ArrivalPhaseSearchTags,
        };
        // Bob never sees Alice's modulator: the emission is never "reported over", and the stream ends at its bound in
        // tagger time. Bob is not told the fibre delay: the last pulse's light can come up to the longest one allowed after it.
        long tailPs = (long)Math.Ceiling(EmissionAgreement.MaxFibreDelayPs) + LinkRig.EmissionTailGuardPs;
        var stream = new EmissionTagStream(tagger, tagger.StopStream, new TaskCompletionSource().Task, emission.Pulses, settings.PulsesPerSync,
            clock.SyncChannel, settings.PulsePeriodPs, tailPs);
        await bob.ConfirmReceiverReadyAsync(emission, EmissionAgreement.Window(emission), cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Session {Session}: receiving an emission of {Pulses:N0} pulses ({Pilot:N0} pilot pulses for frame synchronisation)",
            session, emission.Pulses, emission.PilotPulses);

        using var frontEnd = _frontEnd = new TimeTagFrontEnd(stream, clock, config.ReceiverLayout, choices.Squashing, bases: bases);
        using var acquisitionMetrics = new AcquisitionMetrics("tagger", frontEnd.Loop.Counters, () => (frontEnd.RingFill, frontEnd.RingCapacity));
        frontEnd.Loop.SourceDisconnected += e => logger.LogWarning("Tagger disconnected: {Error}", e.Message);
        frontEnd.Start();
        var detections = new Detection[1 << 16];
        // The session's scope for the blocking tag read: it ends when the node stops the session, and when the peer
        // goes away (completed its end, restarted, the link given up), since then no light will come to end the stream.
        using var reading = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, channel.Closed);
        bool streamEnded = false;
        try
        {
            while (bob.AbortReason is null)
            {
                int n = frontEnd.Read(detections, reading.Token);
                if (n == 0) break;
                await bob.SiftAsync(detections.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
            }
            streamEnded = bob.AbortReason is null;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && channel.Closed.IsCancellationRequested)
        {
            throw new ClassicalChannelClosedException($"Session {session}: the peer closed the classical channel while Bob read tags ({stream.SyncsSeen:N0} syncs seen); the session ends without its last block");
        }
        finally
        {
            // A stream that did not end by itself (an abort, the peer gone, the tagger failing) is stopped here, so the
            // next session starts its tagger afresh.
            if (!streamEnded) StopTagger();
        }
        string closing = await bob.FinishAsync(cancellationToken).ConfigureAwait(false);
        LastFrameSync = bob.FrameSync;
        if (bob.FrameSync is { } found) frameSyncMetrics?.Synchronised(found);
        if (bases is not null)
            logger.LogInformation("Session {Session}: basis marker at pulse {Marker}; {Before:N0} clicks before it not decoded",
                session, frontEnd.Clock.BasisMarkerPulse?.ToString() ?? "(not seen)", frontEnd.Decoder.ClicksBeforeBasisMarker);
        if (bob.FrameSync is { Offset: long offset } sync)
            logger.LogInformation("Session {Session}: frame synchronised at offset {Offset} pulses (light arrival phase {Phase:F0} ps), pilot error rate {Rate:P2} " +
                "over {Sifted:N0} sifted pilot detections; {Pilot:N0} detections on pilot pulses and {Before:N0} before the emission not sifted",
                session, offset, frontEnd.Clock.ArrivalPhasePs, sync.PilotErrorRate, sync.PilotSifted, bob.PilotDetections, bob.DetectionsBeforeEmission);
        else if (bob.FrameSync is { Failure: string failure })
            logger.LogError("Session {Session}: {Failure}", session, failure);
        // What frame synchronisation had to work with (public counters, no key material): a failed search is explained
        // by these, e.g. syncs lost at the start (missing syncs, overflows) or a stream that ended early (few syncs).
        var counters = frontEnd.Clock.Counters;
        logger.Log(bob.FrameSync is { Offset: null } ? LogLevel.Warning : LogLevel.Debug,
            "Session {Session}: tag stream: {Syncs:N0} of {Expected:N0} syncs seen, {Tags:N0} tags, {Assigned:N0} detector tags assigned, " +
            "{Folded:N0} folded by the arrival phase search, {Missing:N0} syncs missing, {Anomalies:N0} sync anomalies, {Relocks} relocks, {BeforeLock:N0} tags before lock, {Overflows} overflows " +
            "({Missed:N0} events lost), {Dropped:N0} dropped by the ring",
            session, stream.SyncsSeen, (emission.Pulses + settings.PulsesPerSync - 1) / settings.PulsesPerSync, counters.Tags, counters.AssignedTags,
            counters.PhaseSearchTags, counters.MissingSyncs, counters.SyncAnomalies, counters.Relocks, counters.BeforeLock, counters.Overflows, counters.OverflowMissedEvents, stream.Dropped);
        if (stream.TagsAfterEnd > 0 || bob.DetectionsBeyondEmission > 0)
            logger.LogInformation("Session {Session}: {Tags:N0} tags after the emission's end, {Detections:N0} detections beyond its last pulse (not sifted)",
                session, stream.TagsAfterEnd, bob.DetectionsBeyondEmission);
        logger.LogInformation("Session {Session} ended: {Closing}; {Bits:N0} secret bits", session, closing, bob.SecretBits);
        return new SessionSummary(session, closing, bob.SecretBits);
    }

    private void StopTagger()
    {
        try { tagger.StopStream(); }
        catch (Exception e) when (e is Protocol.DeviceException or InvalidOperationException or ObjectDisposedException) { logger.LogWarning("Stopping the tagger failed: {Error}", e.Message); }
    }
}
