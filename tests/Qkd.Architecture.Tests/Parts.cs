namespace Qkd.Architecture.Tests;

/// <summary>
/// The parts of the design (shared DESIGN.md, "Parts") and the one-way dependency rule between them, as data: the
/// tests below check the project files and the compiled assemblies against it. Change the design first, then this.
/// </summary>
internal static class Parts
{
    /// <summary>Every product assembly under src/, by part name (the project is src/Qkd.{name}/Qkd.{name}.csproj).</summary>
    public static readonly string[] All =
        ["Core", "Protocol", "Hardware", "Acquisition", "Distillation", "ClassicalChannel", "Pqc", "Kme", "Network", "Audit", "Calibration", "Monitoring", "Emulation", "Status", "Node", "NetworkHost", "Lab", "Cli"];

    /// <summary>
    /// The project references each part may have: the design's edges (Cli → {Lab, Node}, Lab → {Node, Calibration},
    /// Node → {Hardware, Acquisition, Distillation, ClassicalChannel, Kme, Emulation}, Hardware → Protocol,
    /// Emulation → Protocol) plus Core, which everything may reference, and the parts issues 15 and 16 added: Audit (the
    /// tamper-evident log) and Monitoring (the link monitor), leaves beside Kme that Node composes (Lab runs the monitor
    /// too); Status (the operator's page), which reads the public state of Hardware, Distillation and Kme; Pqc
    /// (ML-KEM, ML-DSA, the hybrid combiner, the vehicle channel), which Kme uses for hybrid keys and the vehicle
    /// gateway's pool (Cli reaches it through Node for `qkd vehicle`); Network (topology, routing, trusted-node relay), which references Kme (the link
    /// key pool) and ClassicalChannel (the Wegman–Carter hash, the neighbour link); NetworkHost (a network node as a
    /// process: a node's QKD link ends from Node under the relay from Network; the orchestrator of `qkd network up`),
    /// which Cli wires into `qkd network`.
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
        ["Audit"] = ["Core"],
        ["Network"] = ["ClassicalChannel", "Kme", "Core"],
        ["Calibration"] = ["Core"],
        ["Monitoring"] = ["Core"],
        ["Emulation"] = ["Protocol", "Core"],
        ["Status"] = ["Hardware", "Distillation", "Kme", "Core"],
        ["Node"] = ["Hardware", "Acquisition", "Distillation", "ClassicalChannel", "Kme", "Pqc", "Audit", "Emulation", "Monitoring", "Status", "Core"],
        ["Lab"] = ["Node", "Calibration", "Monitoring", "Core"],
        ["NetworkHost"] = ["Network", "Node", "Core"],
        ["Cli"] = ["Lab", "Node", "NetworkHost", "Core"],
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
