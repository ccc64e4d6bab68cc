namespace Qkd.Calibration;

/// <summary>
/// An estimate, or the reason the data cannot support it: a sentence that names what is missing and how much more
/// data would do (for example "needs at least 100 side-peak pairs; this capture has 37: capture about 2.7 times as
/// much data"). A session turns a refusal into a non-zero exit; it never publishes the noise as a result.
/// </summary>
public readonly record struct Refusable<T> where T : class
{
    private Refusable(T? value, string? refusal)
    {
        Value = value;
        Refusal = refusal;
    }

    /// <summary>The estimate, or null when refused.</summary>
    public T? Value { get; }

    /// <summary>Why the data cannot support the estimate, or null.</summary>
    public string? Refusal { get; }

    public static Refusable<T> Of(T value) => new(value ?? throw new ArgumentNullException(nameof(value)), null);

    public static Refusable<T> Refused(string reason) => new(null, reason ?? throw new ArgumentNullException(nameof(reason)));
}
