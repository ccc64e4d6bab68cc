using Qkd.Core;
using Qkd.Distillation;

namespace Qkd.Status;

/// <summary>A distiller's <see cref="BlockResult"/> as the status page's <see cref="BlockReport"/>.</summary>
public static class BlockReports
{
    /// <param name="light">What the transmitter sends, for the transmittance estimate; null: none.</param>
    public static BlockReport From(BlockResult block, SignalLight? light)
    {
        ArgumentNullException.ThrowIfNull(block);
        int signal = (int)Intensity.Signal;
        long siftedSignal = (block.SiftedZPerIntensity.Length > signal ? block.SiftedZPerIntensity[signal] : 0)
            + (block.SiftedXPerIntensity.Length > signal ? block.SiftedXPerIntensity[signal] : 0);
        return new BlockReport(block.BlockId, block.Outcome == BlockOutcome.Key, block.Reason, block.QberZ, block.QberX, block.SecretBits,
            light?.Transmittance(siftedSignal, block.LightSeconds) ?? double.NaN);
    }
}
