namespace Qkd.Hil;

/// <summary>
/// The targets a run covers: inproc and pty always (they need nothing but this machine), hardware when the
/// environment variable QKD_HIL_HARDWARE names a target file.
/// </summary>
public static class HilTargets
{
    public const string HardwareVariable = "QKD_HIL_HARDWARE";

    public static IReadOnlyList<string> Names { get; } = ["inproc", "pty", "hardware"];

    /// <summary>The target, or null with the reason it is not available here.</summary>
    public static HilTarget? Find(string name, out string? unavailable)
    {
        unavailable = null;
        if (name != "hardware") return HilTarget.Load(Path.Combine(AppContext.BaseDirectory, "targets", name + ".json"));
        string? file = Environment.GetEnvironmentVariable(HardwareVariable);
        if (string.IsNullOrWhiteSpace(file))
        {
            unavailable = $"no hardware configured: set {HardwareVariable} to a target file (see hil/targets/hardware.example.json and hil/README.md)";
            return null;
        }
        return HilTarget.Load(file);
    }
}
