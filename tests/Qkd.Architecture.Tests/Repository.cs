using System.Xml.Linq;

namespace Qkd.Architecture.Tests;

/// <summary>The repository the tests were built from: its root and its project files.</summary>
internal static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string ProjectFile(string part) => Path.Combine(Root, "src", $"Qkd.{part}", $"Qkd.{part}.csproj");

    /// <summary>The parts a project file references (ProjectReference items under src/).</summary>
    public static IReadOnlyList<string> ProjectReferences(string projectFile) =>
        XDocument.Load(projectFile).Descendants("ProjectReference")
            .Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value.Replace('\\', '/')))
            .Select(name => name.StartsWith("Qkd.", StringComparison.Ordinal) ? name["Qkd.".Length..] : name)
            .ToList();

    /// <summary>The NuGet packages a project file references directly.</summary>
    public static IReadOnlyList<string> PackageReferences(string projectFile) =>
        XDocument.Load(projectFile).Descendants("PackageReference").Select(r => r.Attribute("Include")!.Value).ToList();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "QkdDriver.sln")))
                return dir.FullName;
        throw new DirectoryNotFoundException($"QkdDriver.sln not found above {AppContext.BaseDirectory}");
    }
}
