namespace Qkd.Calibration;

/// <summary>How the whole pulse periods of a folded delay were found (<see cref="WholePeriods"/>).</summary>
public enum WholePeriodsResolution
{
    /// <summary>Not resolved: no peak to resolve them for.</summary>
    None,

    /// <summary>From Alice's intensity pattern: the shift under which the fewest clicks fall on vacuum pulses.</summary>
    AlicePattern,

    /// <summary>From the expected delay (cable lengths): the shift that puts the delay closest to it.</summary>
    ExpectedDelay,
}
