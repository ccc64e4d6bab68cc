namespace Qkd.Hardware.Peripherals;

/// <summary>The detector gate-enable output: on while a session emits or receives and key generation is allowed, off otherwise (and at start and stop).</summary>
public sealed record GateEnableLineConfig
{
    public int Chip { get; init; }
    public int Line { get; init; }
    public GpioLineLevel ActiveLevel { get; init; } = GpioLineLevel.High;

    public string? Problem(string path)
    {
        if (Chip < 0) return $"{path}.chip {Chip} must not be negative";
        if (Line < 0) return $"{path}.line {Line} must not be negative";
        if (!Enum.IsDefined(ActiveLevel)) return $"{path}.activeLevel {(int)ActiveLevel} is not \"low\" or \"high\"";
        return null;
    }

    public override string ToString() => $"GPIO chip {Chip} line {Line}";
}
