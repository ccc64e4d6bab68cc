using System.Globalization;

namespace Qkd.Calibration;

/// <summary>
/// One quantity that the data could not support: what it is, how much data it had and how much it needs (the minimum
/// in <see cref="DataMinimums"/>). Counts scale with the capture's length, so <see cref="MoreFactor"/> says how much
/// longer to capture.
/// </summary>
/// <param name="Quantity">What was to be estimated ("delay of channel 1").</param>
/// <param name="Unit">What <paramref name="Have"/> and <paramref name="Needed"/> count ("tags folded").</param>
/// <param name="Have">What the data held.</param>
/// <param name="Needed">The documented minimum.</param>
public readonly record struct DataShortfall(string Quantity, string Unit, double Have, double Needed)
{
    /// <summary>How many times more data reaches the minimum (at least 1); infinity when there was none at all.</summary>
    public double MoreFactor => Have > 0 ? Math.Max(1, Needed / Have) : double.PositiveInfinity;

    /// <summary>"delay of channel 1: tags folded 1, at least 100 needed".</summary>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Quantity}: {Unit} {Format(Have)}, at least {Format(Needed)} needed");

    private static string Format(double value) =>
        value == Math.Floor(value) && Math.Abs(value) < 1e15 ? value.ToString("N0", CultureInfo.InvariantCulture) : value.ToString("G3", CultureInfo.InvariantCulture);

    /// <summary>Null when <paramref name="have"/> reaches <paramref name="needed"/>, else the shortfall.</summary>
    public static DataShortfall? Check(string quantity, string unit, double have, double needed) =>
        have >= needed ? null : new DataShortfall(quantity, unit, double.IsFinite(have) ? Math.Max(0, have) : 0, needed);
}
