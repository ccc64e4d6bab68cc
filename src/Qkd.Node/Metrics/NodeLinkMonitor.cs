using Microsoft.Extensions.Logging;
using Qkd.Acquisition;
using Qkd.Distillation;
using Qkd.Monitoring;
using Qkd.Node.Link;

namespace Qkd.Node.Metrics;

/// <summary>
/// The link monitor (Qkd.Monitoring) in a node: each block Bob's distiller finishes becomes one observation (sifted
/// counts and errors, pulse span, and the receiver's tag counters and arrival times over the block's interval); every alarm raised or
/// cleared is one log line and goes to the metrics (meter "Qkd.Monitoring"); while an alarm that threatens security is
/// raised the distiller's key hold (<see cref="BobDistiller.KeyHold"/>) withholds each block's key at both ends, counted
/// in qkd.monitor.blocks_withheld. One per node, across sessions: the baselines outlive a session.
/// </summary>
public sealed class NodeLinkMonitor : IDisposable
{
    private readonly string _link, _role;

    public NodeLinkMonitor(MonitorOptions? options, string linkId, string role, ILogger logger)
    {
        (_link, _role) = (linkId, role);
        Monitor = new LinkMonitor(options ?? MonitorOptions.Default);
        Metrics = new MonitorMetrics(Monitor, linkId, role);
        Monitor.Board.Changed += change =>
        {
            var a = change.Alarm;
            if (change.Raised)
                logger.Log(a.ThreatensSecurity ? LogLevel.Error : LogLevel.Warning, "Link alarm {Id} raised: {Kind}{Hold}: {Message}",
                    a.Id, a.Kind, a.ThreatensSecurity ? " (threatens security: key withheld until it clears)" : "", a.Message);
            else
                logger.LogInformation("Link alarm {Id} cleared: {Kind} on {Statistic}, back to {Value} on block {Block}",
                    a.Id, a.Kind, a.Statistic, a.ClearedValue, a.ClearedBlockId);
        };
    }

    public LinkMonitor Monitor { get; }

    public MonitorMetrics Metrics { get; }

    /// <summary>What GET /events serves.</summary>
    public MonitorSnapshot Snapshot() => MonitorSnapshot.Of(Monitor, _link, _role);

    /// <summary>
    /// The feed of one session; <paramref name="frontEnd"/> gives the acquisition front end once it runs (null before),
    /// <paramref name="pulseOffset"/> frame synchronisation's offset (Alice's pulse index minus the front end's).
    /// </summary>
    public Feed ForSession(long session, LinkSettings settings, double bobProbabilityZ, Func<TimeTagFrontEnd?> frontEnd, Func<long> pulseOffset) =>
        new(this, session, settings, bobProbabilityZ, frontEnd, pulseOffset);

    public void Dispose() => Metrics.Dispose();

    /// <summary>Feeds one session's blocks (on the distiller's thread, the front end's consumer).</summary>
    public sealed class Feed(NodeLinkMonitor owner, long session, LinkSettings settings, double bobProbabilityZ, Func<TimeTagFrontEnd?> frontEnd,
        Func<long> pulseOffset)
    {
        private readonly ReceiverCounts _receiver = new();
        private long _observed = -1;

        /// <summary>For <see cref="BobDistiller.KeyHold"/>: observes the block, then answers with the hold's reason (null: keep the key).</summary>
        public string? KeyHold(BlockResult block)
        {
            Observe(block);
            string? reason = owner.Monitor.Board.KeyHoldReason;
            if (reason is not null) owner.Metrics.BlockWithheld();
            return reason;
        }

        /// <summary>For <see cref="BobDistiller.BlockCompleted"/>: observes blocks the key hold was not asked about (no key, aborted).</summary>
        public void BlockCompleted(BlockResult block)
        {
            if (block.BlockId != _observed) Observe(block);
        }

        private void Observe(BlockResult block)
        {
            _observed = block.BlockId;
            var distillation = settings.Distillation();
            long span = double.IsFinite(block.LightSeconds) ? (long)Math.Round(block.LightSeconds * settings.PulseRateHz) : 0;
            if (span <= 0) return; // without its pulse span a block says nothing about gains
            // The receiver's counts over the block's own pulses, not up to wherever the acquisition is now (issue 15).
            ReceiverInterval? receiver = frontEnd() is { } fe ? BlockReceiverCounts.Take(_receiver, fe, block, pulseOffset()) : null;
            owner.Monitor.Observe(SiftedBlock.Observation(Service.SessionKeySink.GlobalBlockId(session, block.BlockId), DateTimeOffset.UtcNow, span,
                distillation.MeanPhotonNumbers, distillation.IntensityProbabilities, settings.AliceProbabilityZ, bobProbabilityZ,
                block.SiftedZPerIntensity, block.SiftedXPerIntensity, block.ErrorsZPerIntensity, block.ErrorsXPerIntensity, settings.PulseRateHz, receiver));
        }
    }
}
