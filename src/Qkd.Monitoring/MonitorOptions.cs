namespace Qkd.Monitoring;

/// <summary>
/// The link monitor's thresholds (a node config's "monitor" section). CUSUM parameters are in sigmas of each statistic,
/// where a statistic's sigma per block combines its counting error (binomial or Poisson, from the block's own counts)
/// with a noise floor for what counting does not explain (laser power, polarisation and temperature drifts): so the
/// same thresholds mean the same at any count rate. Defaults and their reasons: src/Qkd.Monitoring/README.md.
/// </summary>
public sealed record MonitorOptions
{
    /// <summary>Off: no monitoring (no alarms, no key hold).</summary>
    public bool Enabled { get; init; } = true;

    /// <summary>k, the CUSUM drift (reference value), in sigmas: half the smallest shift to find fast.</summary>
    public double Drift { get; init; } = 0.5;

    /// <summary>h, the CUSUM decision interval, in sigmas: an alarm when a side's sum exceeds it.</summary>
    public double Decision { get; init; } = 12;

    /// <summary>Blocks whose mean is each statistic's first baseline; no alarm before.</summary>
    public int WarmupBlocks { get; init; } = 10;

    /// <summary>
    /// Weight of each new block in the baseline's exponential average while the statistic is calm (no alarm raised on
    /// it, both sums below h/2): slow drifts are followed, steps are not.
    /// </summary>
    public double BaselineWeight { get; init; } = 0.05;

    /// <summary>An alarm clears after this many consecutive blocks within k sigmas of the baseline (on its side).</summary>
    public int ClearBlocks { get; init; } = 3;

    /// <summary>Noise floor of the loss (and the decoy-signal loss difference) per block, dB.</summary>
    public double LossNoiseDb { get; init; } = 0.05;

    /// <summary>Noise floor of the QBER per block (absolute).</summary>
    public double QberNoise { get; init; } = 0.002;

    /// <summary>Noise floor of the vacuum-pulse click probability, relative to its baseline.</summary>
    public double DarkCountNoise { get; init; } = 0.1;

    /// <summary>Noise floor of the off-gate click probability, relative to its baseline.</summary>
    public double OffGateNoise { get; init; } = 0.2;

    /// <summary>Noise floor of each detector's share of the clicks (absolute).</summary>
    public double DetectorShareNoise { get; init; } = 0.01;

    /// <summary>Noise floor of the share of tags inside the gate (absolute).</summary>
    public double InGateShareNoise { get; init; } = 0.01;

    /// <summary>
    /// Noise floor of the arrival-time statistics (each detector's mean arrival offset and the spread of all arrivals),
    /// ps: cable and detector delays wander by a few ps with temperature.
    /// </summary>
    public double ArrivalNoisePs { get; init; } = 5;

    /// <summary>
    /// Whether a loss step or a transmittance rise holds key generation. Off by default: the decoy-state bound already
    /// charges every lost photon to the eavesdropper, so a tap costs key but does not make the key insecure; the alarm
    /// is tamper evidence.
    /// </summary>
    public bool LossStopsKey { get; init; }

    /// <summary>Changes the <see cref="AlarmBoard"/> keeps in its history.</summary>
    public int HistoryLength { get; init; } = AlarmBoard.DefaultHistoryLength;

    public static MonitorOptions Default { get; } = new();

    /// <summary>Whether alarms of <paramref name="kind"/> hold key generation while raised.</summary>
    public bool ThreatensSecurity(AlarmKind kind) => kind switch
    {
        AlarmKind.LossStep or AlarmKind.TransmittanceRise => LossStopsKey,
        AlarmKind.BackgroundRise or AlarmKind.AfterpulseRise => false,
        _ => true,
    };

    /// <summary>What is wrong, one line per setting, each naming it as "<paramref name="section"/>.name".</summary>
    public IEnumerable<string> Problems(string section = "monitor")
    {
        if (!(Drift >= 0 && Drift <= 10)) yield return $"{section}.drift {Drift} is outside [0, 10] (sigmas)";
        if (!(Decision > 0 && Decision <= 1000)) yield return $"{section}.decision {Decision} is outside (0, 1000] (sigmas)";
        if (WarmupBlocks is < 1 or > 10_000) yield return $"{section}.warmupBlocks {WarmupBlocks} is outside [1, 10000]";
        if (!(BaselineWeight >= 0 && BaselineWeight < 1)) yield return $"{section}.baselineWeight {BaselineWeight} is outside [0, 1)";
        if (ClearBlocks is < 1 or > 10_000) yield return $"{section}.clearBlocks {ClearBlocks} is outside [1, 10000]";
        if (!(LossNoiseDb >= 0 && LossNoiseDb <= 10)) yield return $"{section}.lossNoiseDb {LossNoiseDb} is outside [0, 10] (dB)";
        if (!(QberNoise >= 0 && QberNoise <= 0.5)) yield return $"{section}.qberNoise {QberNoise} is outside [0, 0.5]";
        if (!(DarkCountNoise >= 0 && DarkCountNoise <= 10)) yield return $"{section}.darkCountNoise {DarkCountNoise} is outside [0, 10] (relative)";
        if (!(OffGateNoise >= 0 && OffGateNoise <= 10)) yield return $"{section}.offGateNoise {OffGateNoise} is outside [0, 10] (relative)";
        if (!(DetectorShareNoise >= 0 && DetectorShareNoise <= 1)) yield return $"{section}.detectorShareNoise {DetectorShareNoise} is outside [0, 1]";
        if (!(InGateShareNoise >= 0 && InGateShareNoise <= 1)) yield return $"{section}.inGateShareNoise {InGateShareNoise} is outside [0, 1]";
        if (!(ArrivalNoisePs >= 0 && ArrivalNoisePs <= 1e6)) yield return $"{section}.arrivalNoisePs {ArrivalNoisePs} is outside [0, 1e6] (ps)";
        if (HistoryLength is < 1 or > 1_000_000) yield return $"{section}.historyLength {HistoryLength} is outside [1, 1000000]";
    }

    /// <summary>Throws <see cref="ArgumentException"/> with the first problem.</summary>
    public void Validate()
    {
        if (Problems().FirstOrDefault() is string problem) throw new ArgumentException(problem);
    }
}
