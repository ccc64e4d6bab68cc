using Qkd.Core;

namespace Qkd.Distillation.Sifting;

/// <summary>Running totals of sifting over a whole session: detections per intensity, sifted records per basis and intensity.</summary>
public sealed class SiftingStatistics
{
    /// <summary>All detections Bob reported, by Alice's intensity class.</summary>
    public long[] DetectionsPerIntensity { get; } = new long[Intensities.Count];

    /// <summary>Sifted (basis-matched) records, [basis][intensity].</summary>
    public long[][] SiftedPerBasisAndIntensity { get; } = [new long[Intensities.Count], new long[Intensities.Count]];

    public long Detections { get; private set; }

    public long SiftedZ => SiftedPerBasisAndIntensity[(int)Basis.Z].Sum();

    public long SiftedX => SiftedPerBasisAndIntensity[(int)Basis.X].Sum();

    /// <summary>Bob detections whose basis did not match Alice's and were discarded.</summary>
    public long Discarded => Detections - SiftedZ - SiftedX;

    public void CountDetection(Intensity intensity)
    {
        Detections++;
        DetectionsPerIntensity[(int)intensity]++;
    }

    /// <summary>Adds a batch's totals at once: detections per intensity, sifted Z and X records per intensity.</summary>
    public void Add(ReadOnlySpan<long> detectionsPerIntensity, ReadOnlySpan<long> siftedZ, ReadOnlySpan<long> siftedX)
    {
        for (int k = 0; k < Intensities.Count; k++)
        {
            Detections += detectionsPerIntensity[k];
            DetectionsPerIntensity[k] += detectionsPerIntensity[k];
            SiftedPerBasisAndIntensity[(int)Basis.Z][k] += siftedZ[k];
            SiftedPerBasisAndIntensity[(int)Basis.X][k] += siftedX[k];
        }
    }

    public void CountSifted(Basis basis, Intensity intensity) => SiftedPerBasisAndIntensity[(int)basis][(int)intensity]++;
}
