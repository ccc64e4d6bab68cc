namespace Qkd.Distillation.ParameterEstimation;

/// <summary>The finite-key analyses by kind and by configuration name ("lim2014", "rusca2018", "zhang2017", "curraslorenzo2021", "yin2020").</summary>
public static class FiniteKeyAnalyses
{
    /// <summary>
    /// The analysis a link uses unless configured otherwise: the one that gives the most key for the default block
    /// (2^23 sifted Z bits) on the default link (25 km, signal/decoy/vacuum 0.5/0.15/0): Kato's inequality, 4.977e-3 bits
    /// per pulse against 4.952e-3 for zhang2017 (see README.md, "Finite-key analyses", for the figures).
    /// </summary>
    public const FiniteKeyAnalysisKind Default = FiniteKeyAnalysisKind.CurrasLorenzo2021;

    public static IReadOnlyList<FiniteKeyAnalysisKind> All { get; } = Enum.GetValues<FiniteKeyAnalysisKind>();

    public static IFiniteKeyAnalysis For(FiniteKeyAnalysisKind kind) => kind switch
    {
        FiniteKeyAnalysisKind.Lim2014 => Lim2014Analysis.Instance,
        FiniteKeyAnalysisKind.Rusca2018 => Rusca2018Analysis.Instance,
        FiniteKeyAnalysisKind.Zhang2017 => Zhang2017Analysis.Instance,
        FiniteKeyAnalysisKind.CurrasLorenzo2021 => CurrasLorenzo2021Analysis.Instance,
        FiniteKeyAnalysisKind.Yin2020 => Yin2020Analysis.Instance,
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown finite-key analysis."),
    };

    /// <summary>The configuration name: the first author and year, lower case (the author of the bound where it tightens Lim's).</summary>
    public static string Name(FiniteKeyAnalysisKind kind) => kind switch
    {
        FiniteKeyAnalysisKind.Lim2014 => "lim2014",
        FiniteKeyAnalysisKind.Rusca2018 => "rusca2018",
        FiniteKeyAnalysisKind.Zhang2017 => "zhang2017",
        FiniteKeyAnalysisKind.CurrasLorenzo2021 => "curraslorenzo2021",
        FiniteKeyAnalysisKind.Yin2020 => "yin2020",
        _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Unknown finite-key analysis."),
    };

    /// <summary>Parses a configuration name (case-insensitive); false for anything else.</summary>
    public static bool TryParse(string? name, out FiniteKeyAnalysisKind kind)
    {
        foreach (var candidate in All)
        {
            if (string.Equals(Name(candidate), name?.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                kind = candidate;
                return true;
            }
        }
        kind = default;
        return false;
    }

    /// <summary>The names, for error messages: "lim2014|rusca2018|zhang2017|curraslorenzo2021|yin2020".</summary>
    public static string Names => string.Join("|", All.Select(Name));
}
