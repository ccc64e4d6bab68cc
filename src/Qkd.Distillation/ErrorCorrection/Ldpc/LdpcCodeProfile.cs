namespace Qkd.Distillation.ErrorCorrection.Ldpc;

/// <summary>
/// The shape of one mother code of the family: its base matrix's size and column degrees. The base matrix has
/// <see cref="BaseRows"/> rows and <see cref="BaseColumns"/> columns; BaseRows - 1 columns of degree 2 form a
/// chain through consecutive rows (an accumulator, as in IEEE 802.16e and DVB-S2 codes: degree-2 variables in a
/// chain close no short cycles among themselves), and the other columns have the degrees of
/// <see cref="InformationDegrees"/> (a count of columns per degree). The check degrees come out as even as the
/// edges allow (concentrated check degrees are optimal for the BSC).
/// </summary>
/// <remarks>
/// The information-column degrees follow the irregular profiles that work on the binary symmetric channel at these
/// rates (about 60-90 % degree-3 columns with a tail of high-degree columns, heavier at low rates, as in Elkouss et
/// al., ISIT 2009, and the DVB-S2 codes), tuned here by simulation on the frames of the family
/// (tests/Qkd.Benchmarks LdpcBenchmarks reports the efficiency each rate reaches).
/// </remarks>
public sealed record LdpcCodeProfile(double Rate, int BaseRows, int BaseColumns, IReadOnlyList<(int Degree, int Columns)> InformationDegrees)
{
    /// <summary>Whether BaseRows - 1 degree-2 columns form a chain (an accumulator); otherwise every column is listed.</summary>
    public bool Chain { get; init; } = true;

    public int ChainColumns => Chain ? BaseRows - 1 : 0;

    /// <summary>Throws <see cref="ArgumentException"/> when the profile does not describe a base matrix.</summary>
    public void Validate()
    {
        if (BaseRows < 2 || BaseColumns <= BaseRows)
            throw new ArgumentException($"A base matrix needs at least 2 rows and more columns than rows; got {BaseRows} x {BaseColumns}.");
        int info = InformationDegrees.Sum(d => d.Columns);
        if (info != BaseColumns - ChainColumns)
            throw new ArgumentException($"The degree profile lists {info} columns; {BaseColumns} columns minus the {ChainColumns} chain columns leave {BaseColumns - ChainColumns}.");
        foreach (var (degree, columns) in InformationDegrees)
            if (degree < 2 || degree > BaseRows || columns < 0)
                throw new ArgumentException($"Column degree {degree} (x{columns}) does not fit {BaseRows} base rows.");
    }
}
