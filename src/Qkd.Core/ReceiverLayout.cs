namespace Qkd.Core;

/// <summary>
/// How Bob's detectors map to BB84 outcomes. The channel numbering is a convention shared by the emulator,
/// the drivers and the detection decoder:
/// <list type="bullet">
/// <item><see cref="PassiveFourDetector"/>: a beam splitter picks the basis; channel 0 = Z/0, 1 = Z/1, 2 = X/0, 3 = X/1.</item>
/// <item><see cref="ActiveTwoDetector"/>: a modulator picks the basis per pulse (reported with the click);
/// channel 0 = bit 0, channel 1 = bit 1 in whichever basis was active.</item>
/// </list>
/// </summary>
public enum ReceiverLayout : byte
{
    PassiveFourDetector = 0,
    ActiveTwoDetector = 1,
}

public static class ReceiverLayouts
{
    public static int DetectorCount(this ReceiverLayout layout) => layout switch
    {
        ReceiverLayout.PassiveFourDetector => 4,
        ReceiverLayout.ActiveTwoDetector => 2,
        _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "Unknown receiver layout."),
    };

    /// <summary>The detector channel that registers <paramref name="bit"/> measured in <paramref name="basis"/>.</summary>
    public static int ChannelFor(this ReceiverLayout layout, Basis basis, int bit) => layout switch
    {
        ReceiverLayout.PassiveFourDetector => ((int)basis << 1) | bit,
        ReceiverLayout.ActiveTwoDetector => bit,
        _ => throw new ArgumentOutOfRangeException(nameof(layout), layout, "Unknown receiver layout."),
    };
}
