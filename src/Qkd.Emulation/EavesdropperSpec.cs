using System.Globalization;
using System.Text.Json.Serialization;

namespace Qkd.Emulation;

/// <summary>
/// Which attack the emulated channel runs and on what share of the pulses. In JSON:
/// <c>{ "kind": "InterceptResend", "fraction": 0.5 }</c>; on a command line: <c>intercept-resend:0.5</c>.
/// </summary>
public sealed record EavesdropperSpec
{
    /// <summary>The honest channel.</summary>
    public static EavesdropperSpec None { get; } = new();

    public EavesdropperKind Kind { get; init; } = EavesdropperKind.None;

    /// <summary>Share of the pulses Eve attacks, each pulse independently, in [0, 1]. Ignored when <see cref="Kind"/> is None.</summary>
    public double Fraction { get; init; } = 1.0;

    /// <summary>True when the channel is actually attacked (a kind other than None and a positive fraction).</summary>
    [JsonIgnore]
    public bool IsActive => Kind != EavesdropperKind.None && Fraction > 0;

    public static EavesdropperSpec InterceptResend(double fraction = 1.0) =>
        new() { Kind = EavesdropperKind.InterceptResend, Fraction = fraction };

    public static EavesdropperSpec PhotonNumberSplitting(double fraction = 1.0) =>
        new() { Kind = EavesdropperKind.PhotonNumberSplitting, Fraction = fraction };

    /// <summary>
    /// Parses the command-line form <c>kind[:fraction]</c>: <c>none</c>, <c>intercept-resend</c> (or <c>ir</c>) and
    /// <c>pns</c> (or <c>photon-number-splitting</c>), case-insensitive; the fraction defaults to 1.
    /// </summary>
    /// <exception cref="FormatException">The text names no known attack or carries a bad fraction.</exception>
    public static EavesdropperSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        const string expected = "expected none, intercept-resend[:fraction] or pns[:fraction], fraction in [0, 1]";
        string trimmed = text.Trim();
        int colon = trimmed.IndexOf(':');
        string name = (colon < 0 ? trimmed : trimmed[..colon]).Trim().ToLowerInvariant();
        string? fractionText = colon < 0 ? null : trimmed[(colon + 1)..].Trim();

        EavesdropperKind kind = name switch
        {
            "none" => EavesdropperKind.None,
            "intercept-resend" or "ir" => EavesdropperKind.InterceptResend,
            "pns" or "photon-number-splitting" => EavesdropperKind.PhotonNumberSplitting,
            _ => throw new FormatException($"Unknown eavesdropper '{text}': {expected}."),
        };
        if (fractionText is null)
            return kind == EavesdropperKind.None ? None : new EavesdropperSpec { Kind = kind };
        if (kind == EavesdropperKind.None)
            throw new FormatException($"Eavesdropper 'none' takes no fraction, got '{text}'.");
        if (!double.TryParse(fractionText, NumberStyles.Float, CultureInfo.InvariantCulture, out double fraction)
            || !(fraction >= 0 && fraction <= 1))
            throw new FormatException($"Eavesdropper fraction must be a number in [0, 1], got '{fractionText}' in '{text}'.");
        return new EavesdropperSpec { Kind = kind, Fraction = fraction };
    }

    /// <summary>The command-line form, which <see cref="Parse"/> reads back.</summary>
    public override string ToString() => Kind switch
    {
        EavesdropperKind.None => "none",
        EavesdropperKind.InterceptResend => "intercept-resend:" + Fraction.ToString("R", CultureInfo.InvariantCulture),
        EavesdropperKind.PhotonNumberSplitting => "pns:" + Fraction.ToString("R", CultureInfo.InvariantCulture),
        _ => Kind.ToString(),
    };
}
