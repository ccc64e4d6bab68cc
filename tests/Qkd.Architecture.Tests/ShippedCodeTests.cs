using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;

namespace Qkd.Architecture.Tests;

/// <summary>
/// What the parts must not do, checked on the compiled code: the pure parts do no I/O, and nothing that only tests use
/// ships in a product assembly.
/// </summary>
public sealed class ShippedCodeTests
{
    private static readonly string[] TestOnlyPackages = ["xunit", "NSubstitute", "CsCheck", "BenchmarkDotNet"];

    public static TheoryData<string> AllParts => new(Parts.All);

    [Theory]
    [MemberData(nameof(AllParts))]
    public void No_test_framework_ships_in_a_product_assembly(string part)
    {
        var packages = Repository.PackageReferences(Repository.ProjectFile(part));
        Assert.DoesNotContain(packages, p => TestOnlyPackages.Any(t => p.StartsWith(t, StringComparison.OrdinalIgnoreCase)));
        var used = Assembly.Load(Parts.AssemblyName(part)).GetReferencedAssemblies().Select(a => a.Name!);
        Assert.DoesNotContain(used, a => TestOnlyPackages.Any(t => a.StartsWith(t, StringComparison.OrdinalIgnoreCase)));
    }

    [Fact]
    public void No_simulated_bus_ships_in_the_drivers()
    {
        var types = Assembly.Load("Qkd.Hardware").GetTypes().Select(t => t.FullName!);
        Assert.DoesNotContain(types, t => t.Contains("Simulated", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Core")]
    [InlineData("Calibration")]
    [InlineData("Distillation")]
    [InlineData("Monitoring")]
    public void Pure_parts_do_no_io(string part)
    {
        // Files, sockets, processes and plots are the business of the parts that compose; these compute.
        string[] forbidden = ["System.IO.File", "System.IO.FileStream", "System.IO.Directory", "System.IO.FileInfo", "System.IO.DirectoryInfo",
            "System.Net.Sockets.", "System.Diagnostics.Process", "ScottPlot.", "System.Console"];
        var offending = TypeReferences(part).Where(t => forbidden.Any(f => f.EndsWith('.') ? t.StartsWith(f, StringComparison.Ordinal) : t == f)).ToList();
        Assert.True(offending.Count == 0, $"Qkd.{part} uses {string.Join(", ", offending)}");
    }

    [Theory]
    [InlineData("Distillation")]
    [InlineData("Kme")]
    [InlineData("Network")]
    [InlineData("ClassicalChannel")]
    [InlineData("Acquisition")]
    public void Key_and_protocol_parts_never_touch_devices(string part)
    {
        var offending = TypeReferences(part).Where(t => t.StartsWith("System.IO.Ports.", StringComparison.Ordinal)
            || t.StartsWith("System.Device.", StringComparison.Ordinal)).ToList();
        Assert.True(offending.Count == 0, $"Qkd.{part} uses {string.Join(", ", offending)}");
    }

    /// <summary>The full names of every type the part's IL refers to in other assemblies.</summary>
    private static IReadOnlyList<string> TypeReferences(string part)
    {
        string path = Assembly.Load(Parts.AssemblyName(part)).Location;
        using var stream = File.OpenRead(path);
        using var pe = new PEReader(stream);
        var reader = pe.GetMetadataReader();
        return reader.TypeReferences.Select(h =>
        {
            var reference = reader.GetTypeReference(h);
            string ns = reader.GetString(reference.Namespace);
            string name = reader.GetString(reference.Name);
            return ns.Length == 0 ? name : $"{ns}.{name}";
        }).Distinct().ToList();
    }
}
