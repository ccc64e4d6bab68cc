namespace Qkd.Monitoring;

/// <summary>
/// One alarm of the link monitor, raised on one statistic and cleared when the statistic returns (see README, "Clearing").
/// Immutable: clearing makes a new record with <see cref="ClearedAt"/> set. Contains no key material.
/// </summary>
/// <param name="Id">Unique within the process, increasing in the order alarms were raised.</param>
/// <param name="Kind">What changed.</param>
/// <param name="Statistic">The statistic that changed, e.g. "loss", "qber.Z", "vacuum_gain", "detector.2.share", "in_gate_share".</param>
/// <param name="ThreatensSecurity">True: key generation is held while it is raised.</param>
/// <param name="RaisedAt">When the block that raised it finished.</param>
/// <param name="BlockId">The block that raised it.</param>
/// <param name="Message">One line for an operator: what, by how much, against which baseline.</param>
/// <param name="Value">The statistic's value on the raising block, in <see cref="Unit"/>.</param>
/// <param name="Threshold">The decision interval h the CUSUM crossed, in sigmas of the statistic.</param>
public sealed record LinkAlarm(long Id, AlarmKind Kind, string Statistic, bool ThreatensSecurity, DateTimeOffset RaisedAt, long BlockId, string Message,
    double Value, double Threshold)
{
    /// <summary>The statistic's unit ("dB", "1" for shares and probabilities).</summary>
    public string Unit { get; init; } = "1";

    /// <summary>The baseline the change is measured against (in <see cref="Unit"/>).</summary>
    public double Baseline { get; init; }

    /// <summary>One sigma of the statistic per block (counting error and the configured noise floor, combined).</summary>
    public double Sigma { get; init; }

    /// <summary>The CUSUM sum that crossed <see cref="Threshold"/>, in sigmas.</summary>
    public double Cusum { get; init; }

    /// <summary>When it cleared; null while raised.</summary>
    public DateTimeOffset? ClearedAt { get; init; }

    /// <summary>The block on which it cleared; null while raised.</summary>
    public long? ClearedBlockId { get; init; }

    /// <summary>The statistic's value on the clearing block.</summary>
    public double? ClearedValue { get; init; }

    public bool IsRaised => ClearedAt is null;
}
