namespace Qkd.Status;

/// <summary>
/// What the transmitter sends, as far as the status page's transmittance estimate needs it (from the node's link
/// settings and Bob's basis split).
/// </summary>
/// <param name="PulseRateHz">Alice's pulse rate, pulses/s.</param>
/// <param name="SignalProbability">Probability of a signal pulse.</param>
/// <param name="SignalMeanPhotonNumber">Mean photon number of a signal pulse (mu1).</param>
/// <param name="AliceProbabilityZ">Probability that Alice prepares in Z.</param>
/// <param name="BobProbabilityZ">Probability that Bob measures in Z (beam splitter ratio or his active choice).</param>
public sealed record SignalLight(double PulseRateHz, double SignalProbability, double SignalMeanPhotonNumber, double AliceProbabilityZ, double BobProbabilityZ)
{
    /// <summary>Probability that the two ends chose the same basis: the fraction of clicks that sifting keeps.</summary>
    public double SiftProbability => AliceProbabilityZ * BobProbabilityZ + (1 - AliceProbabilityZ) * (1 - BobProbabilityZ);

    /// <summary>
    /// A first-order estimate of the channel transmittance (fibre, optics and detection efficiency together) from one
    /// block: the signal gain Q = sifted signal clicks / (signal pulses x sift probability), and for Poisson light
    /// Q = 1 - exp(-eta mu), so eta = -ln(1 - Q) / mu. Dark counts, afterpulses and dead time are neglected (they bias it
    /// up at long distance, down at high rates), so it is a trend for the operator, not an input to any key length.
    /// NaN when the block does not tell (no light time, no sifted signal, a gain of 1 or more).
    /// </summary>
    /// <param name="siftedSignal">Sifted signal-intensity events of the block, Z and X together.</param>
    /// <param name="lightSeconds">The span of pulses the block's bits came from, seconds.</param>
    public double Transmittance(long siftedSignal, double lightSeconds)
    {
        double signalPulses = lightSeconds * PulseRateHz * SignalProbability * SiftProbability;
        if (!(signalPulses > 0) || siftedSignal <= 0 || !(SignalMeanPhotonNumber > 0)) return double.NaN;
        double gain = siftedSignal / signalPulses;
        return gain < 1 ? -Math.Log(1 - gain) / SignalMeanPhotonNumber : double.NaN;
    }
}
