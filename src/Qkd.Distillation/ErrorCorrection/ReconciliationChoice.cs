namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// The rule of <see cref="ReconciliationMethod.Auto"/>: Cascade leaks less, LDPC waits less. A block is corrected
/// by LDPC when Cascade's round trips alone would take longer than the light the block was made of:
/// <c>round trip x Cascade rounds &gt; block light time</c>, where the round trip is the smallest of Bob's recent
/// request/response exchanges (<see cref="RoundTripEstimator"/>), Cascade's rounds are those of the last block it
/// corrected (<see cref="DefaultCascadeRounds"/> before any), and the light time is the span of pulses the block's
/// key bits came from divided by the pulse rate. Past that point Cascade could not keep up with the link whatever
/// the CPU does, so the extra leakage of LDPC (a few percent of n h2(q)) is the cheaper loss.
/// </summary>
public static class ReconciliationChoice
{
    /// <summary>Cascade rounds assumed before a Cascade block has been measured (about 2,250 a 2^23-bit block at 2 %, issue 14).</summary>
    public const int DefaultCascadeRounds = 2000;

    /// <summary>The method for the next block under <paramref name="setting"/>.</summary>
    public static ReconciliationMethod Choose(ReconciliationMethod setting, TimeSpan? roundTrip, int cascadeRounds, double blockLightSeconds)
    {
        if (setting != ReconciliationMethod.Auto) return setting;
        // Nothing measured yet (no exchange, or no pulse span): Cascade, the link's default.
        if (roundTrip is not { } rtt || !(blockLightSeconds > 0)) return ReconciliationMethod.Cascade;
        return rtt.TotalSeconds * Math.Max(1, cascadeRounds) > blockLightSeconds ? ReconciliationMethod.Ldpc : ReconciliationMethod.Cascade;
    }
}
