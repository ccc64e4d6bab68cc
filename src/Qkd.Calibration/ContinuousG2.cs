namespace Qkd.Calibration;

/// <summary>
/// g2(0) of continuous light: the pairs in the bin holding 0 ps over the accidental level N1 N2 w / T
/// (<see cref="G2Normalisation"/>), with its one-sigma Poisson uncertainty.
/// </summary>
/// <param name="Normalisation">g2 at every bin.</param>
/// <param name="G2AtZero">g2 in the bin holding 0 ps.</param>
/// <param name="G2Uncertainty">Its one-sigma uncertainty.</param>
/// <param name="ZeroBinPairs">Pairs counted in that bin.</param>
public sealed record ContinuousG2(G2Normalisation Normalisation, double G2AtZero, double G2Uncertainty, long ZeroBinPairs);
