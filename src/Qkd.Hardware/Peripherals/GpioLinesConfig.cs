namespace Qkd.Hardware.Peripherals;

/// <summary>
/// The GPIO lines the node uses (the "gpio" section of a node's devices), each optional, each named by GPIO chip
/// (/dev/gpiochipN) and line number, opened through System.Device.Gpio:
/// <code>
/// "gpio": {
///   "interlock":  { "chip": 0, "line": 5, "closedLevel": "low", "bias": "pullUp", "debounceMs": 5 },
///   "gateEnable": { "chip": 0, "line": 12, "activeLevel": "high" } }
/// </code>
/// An open interlock stops key generation; gate-enable is on while a session runs and key generation is allowed.
/// </summary>
public sealed record GpioLinesConfig
{
    public InterlockLineConfig? Interlock { get; init; }

    public GateEnableLineConfig? GateEnable { get; init; }

    /// <summary>The first bad value, named by its path under <paramref name="section"/>, or null.</summary>
    public string? Problem(string section = "gpio")
    {
        string? problem = Interlock?.Problem($"{section}.interlock") ?? GateEnable?.Problem($"{section}.gateEnable");
        if (problem is null && Interlock is { } i && GateEnable is { } g && i.Chip == g.Chip && i.Line == g.Line)
            problem = $"{section}.gateEnable.line {g.Line} is also {section}.interlock.line on GPIO chip {g.Chip}";
        return problem;
    }
}
