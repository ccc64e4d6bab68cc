using System.Device.Gpio;

namespace Qkd.Hardware.Gpio;

/// <summary>
/// Which GPIO lines the QKD roles use on one GPIO chip (bound from configuration). A role whose pin is null is not
/// wired. <see cref="Validate"/> rejects a bad value with a message that names the property and the value.
/// </summary>
public sealed record GpioLinesOptions
{
    /// <summary>Largest accepted debounce / pulse width: one second. Anything longer is a unit mistake (ms given as ns?).</summary>
    public const long MaxDurationNs = 1_000_000_000;

    /// <summary>The GPIO chip number (/dev/gpiochipN) for the libgpiod driver.</summary>
    public int Chip { get; init; }

    /// <summary>Safety interlock input (laser enclosure closed), or null.</summary>
    public int? InterlockPin { get; init; }

    /// <summary>Level the interlock line reads when the enclosure is closed. Default Low: a normally-closed switch to ground with a pull-up, so a cut wire reads open.</summary>
    public PinValue InterlockClosedLevel { get; init; } = PinValue.Low;

    public PinMode InterlockMode { get; init; } = PinMode.InputPullUp;

    /// <summary>How long the interlock must read closed before it counts as closed (opening is reported at once).</summary>
    public long InterlockDebounceNs { get; init; } = 5_000_000;

    /// <summary>Detector gate-enable output, or null.</summary>
    public int? GateEnablePin { get; init; }

    public PinValue GateEnableActiveLevel { get; init; } = PinValue.High;

    /// <summary>Trigger output (e.g. start of a calibration burst), or null.</summary>
    public int? TriggerPin { get; init; }

    public PinValue TriggerActiveLevel { get; init; } = PinValue.High;

    public long TriggerPulseWidthNs { get; init; } = 1_000;

    /// <summary>Input lines whose edges are time-tagged into the acquisition ring.</summary>
    public IReadOnlyList<TimestampedLine> TimestampedLines { get; init; } = [];

    /// <summary>
    /// Throws <see cref="ArgumentException"/> naming the first bad value: negative or (when <paramref name="pinCount"/>
    /// is known) nonexistent pins, a pin used by two roles, a tag channel used twice, an output mode on an input line,
    /// durations out of range.
    /// </summary>
    public void Validate(int? pinCount = null)
    {
        if (Chip < 0) throw Bad(nameof(Chip), Chip, "must not be negative");
        var owners = new Dictionary<int, string>();
        CheckPin(nameof(InterlockPin), InterlockPin, pinCount, owners);
        CheckPin(nameof(GateEnablePin), GateEnablePin, pinCount, owners);
        CheckPin(nameof(TriggerPin), TriggerPin, pinCount, owners);

        if (InterlockMode == PinMode.Output) throw Bad(nameof(InterlockMode), InterlockMode, "must be an input mode");
        if (InterlockDebounceNs is < 0 or > MaxDurationNs)
            throw Bad(nameof(InterlockDebounceNs), InterlockDebounceNs, $"must be within 0..{MaxDurationNs} ns");
        if (TriggerPulseWidthNs is <= 0 or > MaxDurationNs)
            throw Bad(nameof(TriggerPulseWidthNs), TriggerPulseWidthNs, $"must be within 1..{MaxDurationNs} ns");

        var channels = new HashSet<ushort>();
        for (int i = 0; i < TimestampedLines.Count; i++)
        {
            var line = TimestampedLines[i];
            string name = $"{nameof(TimestampedLines)}[{i}]";
            // The interlock line may also be time-tagged (both only read it); outputs may not.
            if (line.Pin == InterlockPin) owners.Remove(line.Pin);
            CheckPin($"{name}.{nameof(TimestampedLine.Pin)}", line.Pin, pinCount, owners);
            if (line.Mode == PinMode.Output) throw Bad($"{name}.{nameof(TimestampedLine.Mode)}", line.Mode, "must be an input mode");
            if ((line.Edges & (PinEventTypes.Rising | PinEventTypes.Falling)) == 0 || (line.Edges & ~(PinEventTypes.Rising | PinEventTypes.Falling)) != 0)
                throw Bad($"{name}.{nameof(TimestampedLine.Edges)}", line.Edges, "must be Rising, Falling or both");
            if (!channels.Add(line.Channel))
                throw Bad($"{name}.{nameof(TimestampedLine.Channel)}", line.Channel, "is already the tag channel of another line");
        }
    }

    private static void CheckPin(string name, int? pin, int? pinCount, Dictionary<int, string> owners)
    {
        if (pin is not int p) return;
        if (p < 0) throw Bad(name, p, "must not be negative");
        if (pinCount is int count && p >= count) throw Bad(name, p, $"is outside the GPIO chip's lines 0..{count - 1}");
        if (owners.TryGetValue(p, out var other)) throw Bad(name, p, $"is already used by {other}");
        owners[p] = name;
    }

    private static ArgumentException Bad(string name, object value, string why) =>
        new($"{nameof(GpioLinesOptions)}.{name} = {value} {why}.", name);
}
