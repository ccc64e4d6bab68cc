namespace Qkd.Acquisition;

/// <summary>
/// One detector's in-gate tags and their arrival offsets from the expected arrival (cumulative since clock recovery
/// started): the mean is <c>SumPs / Tags</c>, the spread <c>sqrt(SumSquaresPs2 / Tags - mean^2)</c>.
/// </summary>
/// <param name="Tags">Tags inside the gate.</param>
/// <param name="SumPs">Sum of their offsets, ps.</param>
/// <param name="SumSquaresPs2">Sum of their squared offsets, ps^2.</param>
public readonly record struct ArrivalOffsets(long Tags, double SumPs, double SumSquaresPs2);
