namespace Qkd.Core.Random;

/// <summary>The two continuous health tests of NIST SP 800-90B section 4.4.</summary>
public enum HealthTest
{
    /// <summary>Repetition Count Test (section 4.4.1): too long a run of one value, e.g. a stuck source.</summary>
    RepetitionCount,

    /// <summary>Adaptive Proportion Test (section 4.4.2): one value too frequent in a window, e.g. a biased source.</summary>
    AdaptiveProportion,
}

/// <summary>
/// A health test tripped: which test, the count that reached its cutoff, and where. The count is the standard's B when
/// the test returned its error, so it equals the cutoff; <paramref name="Observed"/> says over how many samples it was
/// taken (the run for the Repetition Count Test, the window so far for the Adaptive Proportion Test).
/// </summary>
/// <param name="Count">B: the run length (RCT) or the occurrences of the window's first value (APT) when the test tripped.</param>
/// <param name="Cutoff">C: the test's cutoff.</param>
/// <param name="Observed">Samples the count was taken over: the run (RCT) or the samples of the window so far, first included (APT).</param>
/// <param name="Value">The repeated (RCT) or over-represented (APT) sample value: a bit (0/1) or a byte.</param>
/// <param name="Sample">Index of the sample that tripped the test, counted from the monitor's first sample.</param>
public readonly record struct HealthTestFailure(HealthTest Test, int Count, int Cutoff, int Observed, int Value, long Sample)
{
    public override string ToString() => Test == HealthTest.RepetitionCount
        ? $"repetition count test: {Count} identical samples of value {Value} in a row (cutoff {Cutoff}) at sample {Sample}"
        : $"adaptive proportion test: value {Value} {Count} times in the first {Observed} samples of a window (cutoff {Cutoff}) at sample {Sample}";
}

/// <summary>Where an entropy source stands with its continuous health tests.</summary>
public enum EntropyHealthState
{
    /// <summary>Start-up testing (SP 800-90B section 4.3): not enough consecutive samples have passed yet; no output.</summary>
    Starting,

    /// <summary>Every sample since the start-up or the last recovery passed both tests: output may be used.</summary>
    Healthy,

    /// <summary>A test tripped; no output until the source passes the recovery run again.</summary>
    Failed,
}
