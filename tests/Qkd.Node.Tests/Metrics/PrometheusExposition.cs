using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Qkd.Node.Tests.Metrics;

/// <summary>
/// A strict reader of the Prometheus text exposition format 0.0.4, for the tests: it parses what the endpoint serves
/// back into families and samples and refuses anything a Prometheus server would refuse (bad names, a sample before its
/// TYPE, a family split in two, bad escapes, a counter sample without _total).
/// </summary>
internal sealed partial class PrometheusExposition
{
    public sealed record Sample(string Name, IReadOnlyDictionary<string, string> Labels, double Value);

    public Dictionary<string, string> Types { get; } = new();
    public Dictionary<string, string> Help { get; } = new();
    public List<Sample> Samples { get; } = [];

    [GeneratedRegex("^[a-zA-Z_:][a-zA-Z0-9_:]*$")]
    private static partial Regex MetricName();

    [GeneratedRegex("^[a-zA-Z_][a-zA-Z0-9_]*$")]
    private static partial Regex LabelName();

    public static PrometheusExposition Parse(string text)
    {
        var result = new PrometheusExposition();
        var finished = new HashSet<string>();
        string? current = null;
        foreach (string line in text.Split('\n'))
        {
            if (line.Length == 0) continue;
            if (line.StartsWith("# ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ', 4);
                if (parts[1] is not ("HELP" or "TYPE")) continue;
                string name = parts[2];
                Assert.Matches(MetricName(), name);
                if (name != current)
                {
                    if (current is not null) finished.Add(current);
                    Assert.DoesNotContain(name, finished); // a family's lines are contiguous
                    current = name;
                }
                if (parts[1] == "TYPE")
                {
                    Assert.Contains(parts[3], new[] { "counter", "gauge", "histogram", "summary", "untyped" });
                    Assert.True(result.Types.TryAdd(name, parts[3]), $"second TYPE for {name}");
                }
                else Assert.True(result.Help.TryAdd(name, Unescape(parts.Length > 3 ? parts[3] : "", inLabel: false)), $"second HELP for {name}");
                continue;
            }
            Assert.False(line.StartsWith('#'), $"not a comment line: {line}");
            var sample = ParseSample(line);
            string family = result.Types.Keys.FirstOrDefault(f => f == current && (sample.Name == f || IsSuffixOf(f, sample.Name, result.Types[f])))
                ?? throw new Xunit.Sdk.XunitException($"sample {sample.Name} outside its family's TYPE block");
            if (result.Types[family] == "counter") Assert.EndsWith("_total", sample.Name);
            result.Samples.Add(sample);
        }
        return result;
    }

    /// <summary>The samples of <paramref name="name"/> whose labels include all of <paramref name="labels"/>.</summary>
    public IEnumerable<Sample> Find(string name, params (string Key, string Value)[] labels) =>
        Samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Key, out var v) && v == l.Value));

    public double Value(string name, params (string Key, string Value)[] labels) => Assert.Single(Find(name, labels)).Value;

    /// <summary>The one sample's value, or null when the scrape holds none (more than one still fails).</summary>
    public double? TryValue(string name, params (string Key, string Value)[] labels) =>
        Find(name, labels).ToList() is { Count: > 0 } found ? Assert.Single(found).Value : null;

    private static bool IsSuffixOf(string family, string sample, string type) =>
        (type == "counter" && sample == family) || (type is "histogram" or "summary" && sample.StartsWith(family + "_", StringComparison.Ordinal));

    private static Sample ParseSample(string line)
    {
        int i = 0;
        while (i < line.Length && line[i] is not ('{' or ' ')) i++;
        string name = line[..i];
        Assert.Matches(MetricName(), name);
        var labels = new Dictionary<string, string>();
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (line[i] != '}')
            {
                int eq = line.IndexOf('=', i);
                string label = line[i..eq];
                Assert.Matches(LabelName(), label);
                Assert.Equal('"', line[eq + 1]);
                var value = new StringBuilder();
                int j = eq + 2;
                for (; line[j] != '"'; j++)
                {
                    if (line[j] == '\\')
                    {
                        j++;
                        value.Append(line[j] switch { '\\' => '\\', '"' => '"', 'n' => '\n', var c => throw new Xunit.Sdk.XunitException($"bad escape \\{c} in {line}") });
                    }
                    else value.Append(line[j]);
                }
                Assert.True(labels.TryAdd(label, value.ToString()), $"label {label} twice in {line}");
                i = j + 1;
                if (line[i] == ',') i++;
            }
            i++;
        }
        Assert.Equal(' ', line[i]);
        string[] rest = line[(i + 1)..].Split(' ');
        Assert.InRange(rest.Length, 1, 2); // value [timestamp]
        double number = rest[0] switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            var v => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture),
        };
        return new Sample(name, labels, number);
    }

    private static string Unescape(string text, bool inLabel)
    {
        var result = new StringBuilder();
        for (int i = 0; i < text.Length; i++)
        {
            if (text[i] != '\\') { result.Append(text[i]); continue; }
            i++;
            result.Append(text[i] switch { '\\' => '\\', 'n' => '\n', '"' when inLabel => '"', var c => throw new Xunit.Sdk.XunitException($"bad escape \\{c}") });
        }
        return result.ToString();
    }
}
