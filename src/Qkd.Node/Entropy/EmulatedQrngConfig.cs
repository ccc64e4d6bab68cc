namespace Qkd.Node.Entropy;

/// <summary>
/// The emulator's QRNG ("emulator": { "randomNumberGenerator": { ... } }): an emulated QRNG in process, behind the real
/// driver, that keys Alice's symbol generator as a QRNG device would. The fault knobs are for tests and demonstrations
/// of the alarm: a stuck or biased noise source fails the health tests, and the node refuses to generate key.
/// </summary>
/// <param name="Fault">"none", "stuck" (every bit 0) or "biased" (bits 1 with <paramref name="ProbabilityOfOne"/>), from power-up.</param>
/// <param name="ProbabilityOfOne">P(1) of a biased source, 0..1.</param>
/// <param name="RateLimitBytesPerSecond">The emulated device's rate (1 000 .. 10^9 B/s); 125 000 B/s is 1 Mbit/s, a USB QRNG's order.</param>
public sealed record EmulatedQrngConfig(string Fault = "none", double ProbabilityOfOne = 0.6, long RateLimitBytesPerSecond = 125_000)
{
    /// <summary>The problem with this section, naming the field (relative to the section), or null.</summary>
    public string? Problem() =>
        Fault is not ("none" or "stuck" or "biased") ? $"fault must be \"none\", \"stuck\" or \"biased\", not \"{Fault}\""
        : !(ProbabilityOfOne >= 0 && ProbabilityOfOne <= 1) ? $"probabilityOfOne {ProbabilityOfOne} is outside [0, 1]"
        : RateLimitBytesPerSecond is < 1_000 or > 1_000_000_000 ? $"rateLimitBytesPerSecond {RateLimitBytesPerSecond} is outside [1000, 1000000000]"
        : null;
}
