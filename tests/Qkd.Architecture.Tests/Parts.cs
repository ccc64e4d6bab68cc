namespace Qkd.Architecture.Tests;

/// <summary>
/// The parts of the design (shared DESIGN.md, "Parts") and the one-way dependency rule between them, as data: the
/// tests below check the project files and the compiled assemblies against it. Change the design first, then this.
/// </summary>
internal static class Parts
{
    /// <summary>Every product assembly under src/, by part name (the project is src/Qkd.{name}/Qkd.{name}.csproj).</summary>
    public static readonly string[] All =
        ["Core", "Protocol", "Hardware", "Acquisition", "Distillation", "ClassicalChannel", "Kme", "Pqc", "Calibration", "Emulation", "Node", "Lab", "Cli"];

    /// <summary>
    /// The project references each part may have: the design's edges (Cli → {Lab, Node}, Lab → {Node, Calibration},
    /// Node → {Hardware, Acquisition, Distillation, ClassicalChannel, Kme, Pqc, Emulation}, Kme → Pqc (hybrid keys, the
    /// vehicle gateway's pool; Cli reaches it through Node for `qkd vehicle`), Hardware → Protocol, Emulation → Protocol) plus Core, which
    /// everything may reference.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string[]> AllowedReferences = new Dictionary<string, string[]>
    {
        ["Core"] = [],
        ["Protocol"] = ["Core"],
        ["Hardware"] = ["Protocol", "Core"],
        ["Acquisition"] = ["Core"],
        ["Distillation"] = ["Core"],
        ["ClassicalChannel"] = ["Core"],
        ["Pqc"] = ["Core"],
        ["Kme"] = ["Pqc", "Core"],
        ["Calibration"] = ["Core"],
        ["Emulation"] = ["Protocol", "Core"],
        ["Node"] = ["Hardware", "Acquisition", "Distillation", "ClassicalChannel", "Kme", "Pqc", "Emulation", "Core"],
        ["Lab"] = ["Node", "Calibration", "Core"],
        ["Cli"] = ["Lab", "Node", "Core"],
    };

    /// <summary>The compiled assembly name of a part (the CLI ships as "qkd").</summary>
    public static string AssemblyName(string part) => part == "Cli" ? "qkd" : $"Qkd.{part}";

    /// <summary>The part an assembly name belongs to, or null for anything that is not a product assembly.</summary>
    public static string? PartOf(string assemblyName) =>
        assemblyName == "qkd" ? "Cli" : All.FirstOrDefault(p => assemblyName == $"Qkd.{p}");

    /// <summary>Everything a part may reach through allowed edges, itself excluded.</summary>
    public static IReadOnlySet<string> Reachable(string part)
    {
        var seen = new HashSet<string>();
        var stack = new Stack<string>(AllowedReferences[part]);
        while (stack.Count > 0)
        {
            string next = stack.Pop();
            if (seen.Add(next))
                foreach (string further in AllowedReferences[next]) stack.Push(further);
        }
        return seen;
    }

    /// <summary>The references of <paramref name="part"/> that break the rule (not among its allowed edges).</summary>
    public static IReadOnlyList<string> Violations(string part, IEnumerable<string> references) =>
        references.Where(r => !AllowedReferences[part].Contains(r)).Distinct().ToList();
}
