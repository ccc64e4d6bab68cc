namespace Qkd.Core.Random;

/// <summary>
/// The continuous health tests of NIST SP 800-90B section 4.4, the Repetition Count Test and the Adaptive Proportion
/// Test, run together on every sample of an entropy source, with a start-up and recovery rule that decides when the
/// source's output may be used. Pure computation, no I/O: drivers and firmware feed it what they receive or produce.
/// </summary>
/// <remarks>
/// <para>States. The monitor starts in <see cref="EntropyHealthState.Starting"/>. After
/// <see cref="RecoverySamples"/> consecutive samples pass both tests it is <see cref="EntropyHealthState.Healthy"/>
/// (start-up testing, SP 800-90B section 4.3, which asks for at least 1024 samples). When either test trips it is
/// <see cref="EntropyHealthState.Failed"/>, with the failure in <see cref="LastFailure"/>.</para>
/// <para>Recovery rule. A failure restarts both tests (a new run, a new window, beginning with the sample after the one
/// that tripped) and the source must then pass <see cref="RecoverySamples"/> consecutive samples again, exactly as at
/// start-up, before the monitor is Healthy; a failure during recovery starts the count again. The default of 16
/// windows (<see cref="EntropyHealthOptions.RecoveryWindows"/>) makes an intermittent fault unlikely to slip through: a
/// source that trips a window's test with probability q recovers by chance with probability (1 − q)^16, about 3·10^−4
/// for a bit source with P(1) = 0.6 checked at H = 1, α = 2^−30 (q ≈ 0.4: the window must start with a 1, and its
/// count then passes the cutoff 609 about two times in three). A good source pays 16 windows once per start-up or
/// failure.</para>
/// <para>What may be used. <see cref="Test"/> answers for a whole buffer: its samples may be used only if the monitor
/// was Healthy before the first of them and no test tripped on any of them. A buffer in which recovery completes is
/// not used; the next one is.</para>
/// <para>Not thread-safe: one owner feeds the samples in the order the source produced them.</para>
/// </remarks>
public sealed class EntropyHealthMonitor
{
    private long _untilHealthy;

    /// <summary>A monitor with the cutoffs SP 800-90B section 4.4 gives for <paramref name="options"/>.</summary>
    public EntropyHealthMonitor(EntropyHealthOptions options)
        : this(Validated(options).Samples, options.RepetitionCutoff, options.ProportionCutoff, options.RecoverySamples)
    {
    }

    /// <summary>A monitor with explicit cutoffs (a device whose cutoffs are settings), W from the sample kind.</summary>
    /// <param name="recoverySamples">Consecutive passing samples that end start-up and recovery (≥ 1).</param>
    public EntropyHealthMonitor(EntropySampleKind samples, int repetitionCutoff, int proportionCutoff, long recoverySamples)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(recoverySamples);
        Samples = samples;
        RepetitionCount = new RepetitionCountTest(repetitionCutoff);
        AdaptiveProportion = new AdaptiveProportionTest(AdaptiveProportionTest.WindowFor(samples), proportionCutoff);
        RecoverySamples = recoverySamples;
        _untilHealthy = recoverySamples;
    }

    public EntropySampleKind Samples { get; }

    public RepetitionCountTest RepetitionCount { get; private set; }

    public AdaptiveProportionTest AdaptiveProportion { get; private set; }

    /// <summary>Consecutive passing samples that end start-up and recovery.</summary>
    public long RecoverySamples { get; }

    public EntropyHealthState State { get; private set; } = EntropyHealthState.Starting;

    /// <summary>Passing samples still needed before the monitor is Healthy (0 when it is).</summary>
    public long SamplesUntilHealthy => _untilHealthy;

    /// <summary>The most recent failure (kept after recovery, for reports); null if no test ever tripped.</summary>
    public HealthTestFailure? LastFailure { get; private set; }

    /// <summary>Samples tested so far.</summary>
    public long SamplesTested { get; private set; }

    public long RepetitionCountFailures { get; private set; }

    public long AdaptiveProportionFailures { get; private set; }

    /// <summary>Both tests' failures.</summary>
    public long Failures => RepetitionCountFailures + AdaptiveProportionFailures;

    /// <summary>Samples in <paramref name="bytes"/> bytes of this kind of sample.</summary>
    public long SamplesIn(int bytes) => Samples == EntropySampleKind.Binary ? bytes * 8L : bytes;

    /// <summary>
    /// Runs both tests on every sample of <paramref name="data"/> (the samples that follow the previous call's). Returns
    /// true when the samples may be used: the monitor was Healthy before the first and neither test tripped on any.
    /// </summary>
    public bool Test(ReadOnlySpan<byte> data)
    {
        bool usable = State == EntropyHealthState.Healthy;
        long total = SamplesIn(data.Length);
        long at = 0;
        while (at < total)
        {
            long repetition, proportion;
            if (Samples == EntropySampleKind.Binary)
            {
                repetition = RepetitionCount.ScanBits(data, at, total);
                proportion = AdaptiveProportion.ScanBits(data, at, total);
            }
            else
            {
                repetition = RepetitionCount.ScanBytes(data, at, total);
                proportion = AdaptiveProportion.ScanBytes(data, at, total);
            }
            if (repetition < 0 && proportion < 0)
            {
                Passed(total - at);
                break;
            }
            // The earlier failure counts; the other test's state past it is discarded with the restart below. A sample
            // that trips both at once is reported once, as the Repetition Count Test (section 4.4.1 comes first).
            bool isRepetition = repetition >= 0 && (proportion < 0 || repetition <= proportion);
            long failing = isRepetition ? repetition : proportion;
            Passed(failing - at);
            SamplesTested++;
            if (isRepetition)
            {
                RepetitionCountFailures++;
                LastFailure = new HealthTestFailure(HealthTest.RepetitionCount, RepetitionCount.Count, RepetitionCount.Cutoff,
                    RepetitionCount.Count, RepetitionCount.Value, SamplesTested - 1);
            }
            else
            {
                AdaptiveProportionFailures++;
                LastFailure = new HealthTestFailure(HealthTest.AdaptiveProportion, AdaptiveProportion.Count, AdaptiveProportion.Cutoff,
                    AdaptiveProportion.Position, AdaptiveProportion.Value, SamplesTested - 1);
            }
            usable = false;
            State = EntropyHealthState.Failed;
            _untilHealthy = RecoverySamples;
            RepetitionCount.Reset();
            AdaptiveProportion.Reset();
            at = failing + 1;
        }
        return usable;
    }

    /// <summary>
    /// The next sample does not follow the last one tested (samples were lost or withheld in between): both tests start
    /// afresh, and a monitor that is not Healthy needs its full recovery run again, since its samples are no longer
    /// consecutive. A Healthy monitor stays Healthy.
    /// </summary>
    public void Discontinuity()
    {
        RepetitionCount.Reset();
        AdaptiveProportion.Reset();
        if (State != EntropyHealthState.Healthy) _untilHealthy = RecoverySamples;
    }

    /// <summary>
    /// New cutoffs from the next sample on (a device whose cutoffs are settings): both tests restart with them (a new run,
    /// a new window); the state, the samples still needed to recover and the counters are kept.
    /// </summary>
    public void SetCutoffs(int repetitionCutoff, int proportionCutoff)
    {
        var repetition = new RepetitionCountTest(repetitionCutoff);
        var proportion = new AdaptiveProportionTest(AdaptiveProportion.WindowSize, proportionCutoff);
        RepetitionCount = repetition;
        AdaptiveProportion = proportion;
    }

    /// <summary>
    /// Back to start-up testing, as after power-up: the source itself reported a fault or was reconnected. Counters and
    /// <see cref="LastFailure"/> are kept.
    /// </summary>
    public void Restart()
    {
        RepetitionCount.Reset();
        AdaptiveProportion.Reset();
        State = EntropyHealthState.Starting;
        _untilHealthy = RecoverySamples;
    }

    private void Passed(long samples)
    {
        SamplesTested += samples;
        if (State == EntropyHealthState.Healthy) return;
        _untilHealthy -= samples;
        if (_untilHealthy > 0) return;
        _untilHealthy = 0;
        State = EntropyHealthState.Healthy;
    }

    private static EntropyHealthOptions Validated(EntropyHealthOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options;
    }
}
