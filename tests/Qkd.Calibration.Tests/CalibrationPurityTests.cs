using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Qkd.Calibration.Tests;

/// <summary>Calibration is pure analysis: it reads tags and numbers and returns numbers, never files, plots or devices.</summary>
public sealed class CalibrationPurityTests
{
    [Fact]
    public void The_assembly_references_only_core_and_the_runtime()
    {
        var references = typeof(DelayFit).Assembly.GetReferencedAssemblies().Select(a => a.Name!).ToList();
        Assert.Contains("Qkd.Core", references);
        Assert.All(references, name => Assert.True(name == "Qkd.Core" || name.StartsWith("System.", StringComparison.Ordinal) || name == "netstandard",
            $"Qkd.Calibration references {name}"));
    }

    [Fact]
    public void No_type_of_the_file_system_network_or_plotting_is_used()
    {
        using var pe = new PEReader(File.OpenRead(typeof(DelayFit).Assembly.Location));
        var metadata = pe.GetMetadataReader();
        var used = metadata.TypeReferences.Select(h => metadata.GetTypeReference(h)).Select(t => metadata.GetString(t.Namespace)).Distinct().ToList();
        Assert.DoesNotContain(used, ns => ns.StartsWith("System.IO", StringComparison.Ordinal) || ns.StartsWith("System.Net", StringComparison.Ordinal)
            || ns.StartsWith("ScottPlot", StringComparison.Ordinal) || ns.StartsWith("System.Text.Json", StringComparison.Ordinal));
    }
}
