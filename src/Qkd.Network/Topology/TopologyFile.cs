using System.Text.Json;
using System.Text.RegularExpressions;

namespace Qkd.Network.Topology;

/// <summary>Reads and validates net.json. Every error is one line: the file, the field (JSON path) and what is wrong.</summary>
public static partial class TopologyFile
{
    /// <summary>Node, link and SAE IDs: letters, digits, '-', '_', '.'; 1 to 64 characters (they travel in relay messages).</summary>
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex IdPattern();

    public static NetworkTopology Load(string path)
    {
        string text;
        try { text = File.ReadAllText(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new TopologyException($"{path}: cannot read the topology: {e.Message}", e);
        }
        return Parse(text, path);
    }

    public static NetworkTopology Parse(string json, string source = "net.json")
    {
        NetworkTopology? topology;
        try { topology = JsonSerializer.Deserialize(json, TopologyJson.Reading); }
        catch (JsonException e)
        {
            string where = e.Path is { Length: > 0 } p ? $"{p}: " : "";
            throw new TopologyException($"{source}: {where}{FirstLine(e.Message)}", e);
        }
        if (topology is null) throw new TopologyException($"{source}: the file holds null, not a topology");
        Validate(topology, source);
        return topology;
    }

    /// <summary>Throws <see cref="TopologyException"/> at the first problem.</summary>
    public static void Validate(NetworkTopology t, string source = "net.json")
    {
        void Fail(string field, string problem) => throw new TopologyException($"{source}: {field}: {problem}");

        if (string.IsNullOrWhiteSpace(t.Name)) Fail("name", "must not be empty");
        if (t.KeySizeBits <= 0 || t.KeySizeBits % 8 != 0 || t.KeySizeBits > 8192) Fail("keySizeBits", $"{t.KeySizeBits} is not a positive multiple of 8 up to 8192");
        if (t.Nodes is null || t.Nodes.Count == 0) Fail("nodes", "at least one node is needed");
        if (t.Links is null) Fail("links", "missing");
        var nodes = new HashSet<string>(StringComparer.Ordinal);
        var saes = new Dictionary<string, string>(StringComparer.Ordinal);
        for (int i = 0; i < t.Nodes!.Count; i++)
        {
            var n = t.Nodes[i];
            if (n.Id is null || !IdPattern().IsMatch(n.Id)) Fail($"nodes[{i}].id", $"'{n.Id}' is not an ID (letters, digits, '.', '_', '-', at most 64)");
            if (!nodes.Add(n.Id!)) Fail($"nodes[{i}].id", $"'{n.Id}' appears twice");
            if (string.IsNullOrWhiteSpace(n.Host)) Fail($"nodes[{i}].host", "must not be empty");
            for (int j = 0; j < n.Saes.Count; j++)
            {
                string s = n.Saes[j];
                if (s is null || !IdPattern().IsMatch(s)) Fail($"nodes[{i}].saes[{j}]", $"'{s}' is not an SAE ID");
                if (saes.TryGetValue(s!, out string? other)) Fail($"nodes[{i}].saes[{j}]", $"'{s}' is already attached to node '{other}'");
                saes[s!] = n.Id!;
            }
        }
        var links = new HashSet<string>(StringComparer.Ordinal);
        var pairs = new HashSet<(string, string)>();
        for (int i = 0; i < t.Links!.Count; i++)
        {
            var l = t.Links[i];
            string f = $"links[{i}]";
            if (l.Id is null || !IdPattern().IsMatch(l.Id)) Fail($"{f}.id", $"'{l.Id}' is not an ID");
            if (!links.Add(l.Id!)) Fail($"{f}.id", $"'{l.Id}' appears twice");
            if (l.A is null || !nodes.Contains(l.A)) Fail($"{f}.a", $"unknown node '{l.A}'");
            if (l.B is null || !nodes.Contains(l.B)) Fail($"{f}.b", $"unknown node '{l.B}'");
            if (l.A == l.B) Fail($"{f}.b", $"a link from '{l.A}' to itself");
            var pair = string.CompareOrdinal(l.A, l.B) < 0 ? (l.A!, l.B!) : (l.B!, l.A!);
            if (!pairs.Add(pair)) Fail($"{f}", $"a second link between '{l.A}' and '{l.B}' (one link per neighbour pair)");
            if (!double.IsFinite(l.DistanceKm) || l.DistanceKm <= 0 || l.DistanceKm > 1000) Fail($"{f}.distanceKm", $"{l.DistanceKm} is not in (0, 1000] km");
            if (!double.IsFinite(l.FibreLossDbPerKm) || l.FibreLossDbPerKm < 0 || l.FibreLossDbPerKm > 10) Fail($"{f}.fibreLossDbPerKm", $"{l.FibreLossDbPerKm} is not in [0, 10] dB/km");
            if (!double.IsFinite(l.ExtraLossDb) || l.ExtraLossDb < 0 || l.ExtraLossDb > 100) Fail($"{f}.extraLossDb", $"{l.ExtraLossDb} is not in [0, 100] dB");
            if (l.Detector is null) Fail($"{f}.detector", "must not be null");
            if (!double.IsFinite(l.Detector!.Efficiency) || l.Detector.Efficiency <= 0 || l.Detector.Efficiency > 1) Fail($"{f}.detector.efficiency", $"{l.Detector.Efficiency} is not in (0, 1]");
            if (!double.IsFinite(l.Detector.DarkCountRatePerSecond) || l.Detector.DarkCountRatePerSecond < 0) Fail($"{f}.detector.darkCountRatePerSecond", $"{l.Detector.DarkCountRatePerSecond} is negative or not a number");
            if (l.Detector.DeadTimePs < 0) Fail($"{f}.detector.deadTimePs", $"{l.Detector.DeadTimePs} is negative");
        }
        // Every node must be reachable: a relay to an island could never complete.
        var seen = new HashSet<string> { t.Nodes[0].Id };
        var queue = new Queue<string>(seen);
        while (queue.Count > 0)
        {
            string n = queue.Dequeue();
            foreach (var l in t.LinksOf(n))
                if (seen.Add(l.Other(n))) queue.Enqueue(l.Other(n));
        }
        for (int i = 0; i < t.Nodes.Count; i++)
            if (!seen.Contains(t.Nodes[i].Id)) Fail($"nodes[{i}].id", $"'{t.Nodes[i].Id}' is not connected to '{t.Nodes[0].Id}' by any links");
    }

    public static string Serialize(NetworkTopology topology) => JsonSerializer.Serialize(topology, TopologyJson.Default.NetworkTopology);

    private static string FirstLine(string s) => s.Split('\n', 2)[0].Trim();
}
