using Qkd.Hardware.Gpio;

namespace Qkd.Hardware.Peripherals;

/// <summary>
/// The safety interlock input (enclosure lid, fibre patch panel). Default wiring: a normally-closed switch to ground
/// with the line's pull-up, closed = low, so a cut wire reads open. Opening is seen at its first edge; closing only
/// after the line read closed for <see cref="DebounceMs"/>.
/// </summary>
public sealed record InterlockLineConfig
{
    public int Chip { get; init; }
    public int Line { get; init; }
    public GpioLineLevel ClosedLevel { get; init; } = GpioLineLevel.Low;
    public GpioLineBias Bias { get; init; } = GpioLineBias.PullUp;

    /// <summary>How long the line must read closed before it counts as closed, milliseconds (0..1000).</summary>
    public double DebounceMs { get; init; } = 5;

    public string? Problem(string path)
    {
        if (Chip < 0) return $"{path}.chip {Chip} must not be negative";
        if (Line < 0) return $"{path}.line {Line} must not be negative";
        if (!Enum.IsDefined(ClosedLevel)) return $"{path}.closedLevel {(int)ClosedLevel} is not \"low\" or \"high\"";
        if (!Enum.IsDefined(Bias)) return $"{path}.bias {(int)Bias} is not \"pullUp\", \"pullDown\" or \"none\"";
        if (!double.IsFinite(DebounceMs) || DebounceMs < 0 || DebounceMs * 1e6 > GpioLinesOptions.MaxDurationNs)
            return $"{path}.debounceMs {DebounceMs} is outside 0..{GpioLinesOptions.MaxDurationNs / 1_000_000}";
        return null;
    }

    public long DebounceNs => (long)Math.Round(DebounceMs * 1e6);

    public override string ToString() => $"GPIO chip {Chip} line {Line}";
}
