using System.Reflection;

namespace Qkd.Architecture.Tests;

/// <summary>
/// The dependency rule of the design, checked twice: on the project files (what a build may reference) and on the
/// compiled assemblies (what the code really uses). Either check fails when an edge breaks the rule.
/// </summary>
public sealed class DependencyRuleTests
{
    public static TheoryData<string> AllParts => new(Parts.All);

    [Fact]
    public void Every_part_has_its_project_and_its_test_twin()
    {
        foreach (string part in Parts.All)
        {
            Assert.True(File.Exists(Repository.ProjectFile(part)), $"src/Qkd.{part}/Qkd.{part}.csproj is missing");
            string twin = Path.Combine(Repository.Root, "tests", $"Qkd.{part}.Tests", $"Qkd.{part}.Tests.csproj");
            Assert.True(File.Exists(twin), $"tests/Qkd.{part}.Tests/Qkd.{part}.Tests.csproj is missing");
        }
    }

    [Theory]
    [MemberData(nameof(AllParts))]
    public void Every_part_explains_itself_in_a_readme(string part)
    {
        // The README is also the part's NuGet readme: an integrator taking one package reads it first.
        string readme = Path.Combine(Repository.Root, "src", $"Qkd.{part}", "README.md");
        Assert.True(File.Exists(readme), $"src/Qkd.{part}/README.md is missing");
        Assert.StartsWith($"# Qkd.{part}", File.ReadAllText(readme));
    }

    [Theory]
    [MemberData(nameof(AllParts))]
    public void Every_library_describes_itself_as_a_package(string part)
    {
        var project = System.Xml.Linq.XDocument.Load(Repository.ProjectFile(part));
        bool packable = project.Descendants("IsPackable").All(e => e.Value != "false");
        if (!packable) return; // the CLI is an application, not a package
        string? description = project.Descendants("Description").FirstOrDefault()?.Value;
        Assert.False(string.IsNullOrWhiteSpace(description), $"src/Qkd.{part}/Qkd.{part}.csproj has no <Description> for its package");
    }

    [Fact]
    public void Nothing_under_src_is_outside_the_parts()
    {
        var projects = Directory.GetDirectories(Path.Combine(Repository.Root, "src"))
            .Where(d => Directory.EnumerateFiles(d, "*.csproj").Any())
            .Select(d => Path.GetFileName(d)!)
            .ToList();
        Assert.Equal(Parts.All.Select(p => $"Qkd.{p}").Order(), projects.Order());
    }

    [Theory]
    [MemberData(nameof(AllParts))]
    public void Project_references_follow_the_rule(string part)
    {
        var references = Repository.ProjectReferences(Repository.ProjectFile(part));
        Assert.All(references, r => Assert.Contains(r, Parts.All)); // never a test project or a tool
        Assert.Empty(Parts.Violations(part, references));
    }

    [Theory]
    [MemberData(nameof(AllParts))]
    public void Compiled_references_stay_within_what_the_rule_lets_a_part_reach(string part)
    {
        var assembly = Assembly.Load(Parts.AssemblyName(part));
        var reachable = Parts.Reachable(part);
        var used = assembly.GetReferencedAssemblies().Select(a => Parts.PartOf(a.Name!)).OfType<string>().ToList();
        Assert.All(used, u => Assert.True(reachable.Contains(u), $"Qkd.{part} uses Qkd.{u}, which the rule does not let it reach"));
    }

    [Fact]
    public void Emulation_never_references_the_drivers() => AssertNeverReaches("Emulation", "Hardware");

    [Fact]
    public void Acquisition_never_references_the_drivers() => AssertNeverReaches("Acquisition", "Hardware");

    [Fact]
    public void Distillation_references_Core_alone()
    {
        Assert.Equal(["Core"], Repository.ProjectReferences(Repository.ProjectFile("Distillation")));
        Assert.Empty(Repository.PackageReferences(Repository.ProjectFile("Distillation")));
        var used = Assembly.Load("Qkd.Distillation").GetReferencedAssemblies().Select(a => Parts.PartOf(a.Name!)).OfType<string>();
        Assert.Equal(["Core"], used);
    }

    [Fact]
    public void The_cli_references_only_lab_node_and_the_network_host()
    {
        var references = Repository.ProjectReferences(Repository.ProjectFile("Cli"));
        Assert.Equal(["Lab", "NetworkHost", "Node"], references.Order());
    }

    [Fact]
    public void The_checker_catches_a_broken_edge()
    {
        // Guard the guard: an edge the rule forbids must show up as a violation, or every test above passes vacuously.
        Assert.Equal(["Hardware"], Parts.Violations("Emulation", ["Core", "Protocol", "Hardware"]));
        Assert.Equal(["Emulation"], Parts.Violations("Distillation", ["Core", "Emulation"]));
        Assert.Empty(Parts.Violations("Node", ["Hardware", "Emulation", "Kme"]));
        Assert.DoesNotContain("Hardware", Parts.Reachable("Emulation"));
        Assert.Contains("Protocol", Parts.Reachable("Cli"));
    }

    private static void AssertNeverReaches(string part, string forbidden)
    {
        // Through the project files, transitively: a reference via another project would still pull the drivers in.
        var seen = new HashSet<string>();
        var stack = new Stack<string>(Repository.ProjectReferences(Repository.ProjectFile(part)));
        while (stack.Count > 0)
        {
            string next = stack.Pop();
            if (!seen.Add(next)) continue;
            foreach (string further in Repository.ProjectReferences(Repository.ProjectFile(next))) stack.Push(further);
        }
        Assert.DoesNotContain(forbidden, seen);
        var used = Assembly.Load(Parts.AssemblyName(part)).GetReferencedAssemblies().Select(a => a.Name);
        Assert.DoesNotContain(Parts.AssemblyName(forbidden), used);
    }
}
