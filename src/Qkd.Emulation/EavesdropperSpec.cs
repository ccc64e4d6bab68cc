using System.Globalization;
using System.Text.Json.Serialization;

namespace Qkd.Emulation;

/// <summary>
/// Which attack the emulated channel runs, on what share of the pulses and from when. In JSON:
/// <c>{ "kind": "FibreTap", "extraLossDb": 0.3, "startSeconds": 1.5 }</c>; on a command line one syntax for every
/// attack, <c>kind[:value][@start]</c>: <c>intercept-resend:0.5</c>, <c>tap:0.3dB@1.5s</c>, <c>time-shift:100ps</c>,
/// <c>blinding@0.2s</c>, <c>dos@1s</c> (see <see cref="Parse"/>).
/// </summary>
public sealed record EavesdropperSpec
{
    /// <summary>Extra loss of a tap when none is given, dB.</summary>
    public const double DefaultTapLossDb = 0.3;

    /// <summary>Eve's time shift when none is given, ps.</summary>
    public const double DefaultTimeShiftPs = 100;

    /// <summary>The honest channel.</summary>
    public static EavesdropperSpec None { get; } = new();

    public EavesdropperKind Kind { get; init; } = EavesdropperKind.None;

    /// <summary>
    /// Share of the pulses Eve attacks, each pulse independently, in [0, 1]: intercept-resend, photon-number splitting
    /// and time-shift. Blinding, a tap and a denial of service act on every pulse (they change the channel or the
    /// detectors, not single pulses), so for them it is ignored. Ignored when <see cref="Kind"/> is None.
    /// </summary>
    public double Fraction { get; init; } = 1.0;

    /// <summary>Link time from which the attack runs, seconds (pulse index = start x pulse rate); null: from the first pulse.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? StartSeconds { get; init; }

    /// <summary>Fibre tap: the extra loss, dB (null: <see cref="DefaultTapLossDb"/>). Ignored by the other kinds.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? ExtraLossDb { get; init; }

    /// <summary>Time-shift: how far Eve moves a pulse early or late, ps (null: <see cref="DefaultTimeShiftPs"/>). Ignored by the other kinds.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? TimeShiftPs { get; init; }

    /// <summary>True when the channel is actually attacked (a kind other than None and a positive fraction).</summary>
    [JsonIgnore]
    public bool IsActive => Kind != EavesdropperKind.None && Fraction > 0;

    /// <summary>Whether <see cref="Fraction"/> means anything for this kind.</summary>
    [JsonIgnore]
    public bool TakesFraction => Kind is EavesdropperKind.InterceptResend or EavesdropperKind.PhotonNumberSplitting or EavesdropperKind.TimeShift;

    /// <summary>The tap's extra loss in effect, dB.</summary>
    [JsonIgnore]
    public double EffectiveExtraLossDb => ExtraLossDb ?? DefaultTapLossDb;

    /// <summary>The time shift in effect, ps.</summary>
    [JsonIgnore]
    public double EffectiveTimeShiftPs => TimeShiftPs ?? DefaultTimeShiftPs;

    public static EavesdropperSpec InterceptResend(double fraction = 1.0) =>
        new() { Kind = EavesdropperKind.InterceptResend, Fraction = fraction };

    public static EavesdropperSpec PhotonNumberSplitting(double fraction = 1.0) =>
        new() { Kind = EavesdropperKind.PhotonNumberSplitting, Fraction = fraction };

    /// <summary>The same attack, starting at <paramref name="seconds"/> of link time.</summary>
    public EavesdropperSpec StartingAt(double seconds) => this with { StartSeconds = seconds };

    /// <summary>The command-line syntax, for help texts and error messages.</summary>
    public const string Syntax =
        "none | intercept-resend[:FRACTION] (ir) | pns[:FRACTION] | blinding | time-shift[:PSps] | tap[:DBdB] (bend) | dos (block), " +
        "each optionally followed by @SECONDS[s], the link time the attack starts (default 0); FRACTION in [0, 1] (default 1), " +
        "tap default 0.3dB, time-shift default 100ps";

    /// <summary>
    /// Parses the command-line form <c>kind[:value][@start]</c>, case-insensitive: <c>none</c>;
    /// <c>intercept-resend</c> (or <c>ir</c>) and <c>pns</c> (or <c>photon-number-splitting</c>) with a fraction
    /// (default 1); <c>blinding</c> (or <c>detector-blinding</c>); <c>time-shift</c> with a shift in ps (<c>100ps</c>
    /// or <c>100</c>, default 100); <c>tap</c> (or <c>fibre-tap</c>, <c>bend</c>) with an extra loss in dB
    /// (<c>0.3dB</c> or <c>0.3</c>, default 0.3); <c>dos</c> (or <c>denial-of-service</c>, <c>block</c>). Every kind
    /// but none takes <c>@start</c> in seconds (<c>@1.5s</c> or <c>@1.5</c>).
    /// </summary>
    /// <exception cref="FormatException">The text names no known attack or carries a bad value; the message says what was expected.</exception>
    public static EavesdropperSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        string expected = "expected " + Syntax;
        string trimmed = text.Trim();
        double? start = null;
        int at = trimmed.IndexOf('@');
        if (at >= 0)
        {
            string startText = trimmed[(at + 1)..].Trim();
            start = Number(StripUnit(startText, "s"), text, "start time", 0, 1e9)
                    ?? throw new FormatException($"Eavesdropper start must be a number of seconds >= 0, got '{startText}' in '{text}'.");
            trimmed = trimmed[..at].Trim();
        }
        int colon = trimmed.IndexOf(':');
        string name = (colon < 0 ? trimmed : trimmed[..colon]).Trim().ToLowerInvariant();
        string? valueText = colon < 0 ? null : trimmed[(colon + 1)..].Trim();

        EavesdropperKind kind = name switch
        {
            "none" => EavesdropperKind.None,
            "intercept-resend" or "ir" => EavesdropperKind.InterceptResend,
            "pns" or "photon-number-splitting" => EavesdropperKind.PhotonNumberSplitting,
            "blinding" or "detector-blinding" => EavesdropperKind.DetectorBlinding,
            "time-shift" or "timeshift" => EavesdropperKind.TimeShift,
            "tap" or "fibre-tap" or "fiber-tap" or "bend" => EavesdropperKind.FibreTap,
            "dos" or "denial-of-service" or "block" => EavesdropperKind.DenialOfService,
            _ => throw new FormatException($"Unknown eavesdropper '{text}': {expected}."),
        };
        if (kind == EavesdropperKind.None)
        {
            if (valueText is not null || start is not null)
                throw new FormatException($"Eavesdropper 'none' takes no value or start time, got '{text}'.");
            return None;
        }
        var spec = new EavesdropperSpec { Kind = kind, StartSeconds = start };
        if (valueText is null) return spec;
        switch (kind)
        {
            case EavesdropperKind.InterceptResend or EavesdropperKind.PhotonNumberSplitting:
                return spec with
                {
                    Fraction = Number(valueText, text, "fraction", 0, 1)
                               ?? throw new FormatException($"Eavesdropper fraction must be a number in [0, 1], got '{valueText}' in '{text}'."),
                };
            case EavesdropperKind.TimeShift:
                return spec with
                {
                    TimeShiftPs = Number(StripUnit(valueText, "ps"), text, "shift", 0, 1e6)
                                  ?? throw new FormatException($"Time shift must be a number of picoseconds in [0, 1e6], got '{valueText}' in '{text}'."),
                };
            case EavesdropperKind.FibreTap:
                return spec with
                {
                    ExtraLossDb = Number(StripUnit(valueText, "db"), text, "loss", 0, 1000)
                                  ?? throw new FormatException($"Tap loss must be a number of dB in [0, 1000], got '{valueText}' in '{text}'."),
                };
            default:
                throw new FormatException($"Eavesdropper '{name}' takes no value, got '{text}': {expected}.");
        }
    }

    private static string StripUnit(string value, string unit) =>
        value.EndsWith(unit, StringComparison.OrdinalIgnoreCase) ? value[..^unit.Length].Trim() : value;

    private static double? Number(string value, string text, string what, double min, double max) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) && x >= min && x <= max ? x : null;

    /// <summary>The command-line form, which <see cref="Parse"/> reads back.</summary>
    public override string ToString()
    {
        string body = Kind switch
        {
            EavesdropperKind.None => "none",
            EavesdropperKind.InterceptResend => "intercept-resend:" + Invariant(Fraction),
            EavesdropperKind.PhotonNumberSplitting => "pns:" + Invariant(Fraction),
            EavesdropperKind.DetectorBlinding => "blinding",
            EavesdropperKind.TimeShift => "time-shift:" + Invariant(EffectiveTimeShiftPs) + "ps",
            EavesdropperKind.FibreTap => "tap:" + Invariant(EffectiveExtraLossDb) + "dB",
            EavesdropperKind.DenialOfService => "dos",
            _ => Kind.ToString(),
        };
        return StartSeconds is double s && Kind != EavesdropperKind.None ? body + "@" + Invariant(s) + "s" : body;
    }

    private static string Invariant(double x) => x.ToString("R", CultureInfo.InvariantCulture);
}
