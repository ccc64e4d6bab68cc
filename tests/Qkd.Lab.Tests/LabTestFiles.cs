using System.Runtime.CompilerServices;
using System.Text.Json;
using Qkd.Lab;

namespace Qkd.Lab.Tests;

/// <summary>Checks shared by the lab tests: PNG files and schema conformance.</summary>
internal static class LabTestFiles
{
    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>The file exists, is larger than 1 KB and starts with the PNG signature.</summary>
    public static void AssertPng(string path)
    {
        Assert.True(File.Exists(path), $"{path} was not written");
        byte[] bytes = File.ReadAllBytes(path);
        Assert.True(bytes.Length > 1024, $"{path} has only {bytes.Length} bytes");
        Assert.Equal(PngSignature, bytes[..8]);
    }

    /// <summary>The repository root (the folder holding QkdDriver.sln), found from this source file (builds may put their output anywhere).</summary>
    public static string RepositoryRoot([CallerFilePath] string source = "")
    {
        for (var dir = new FileInfo(source).Directory; dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "QkdDriver.sln"))) return dir.FullName;
        throw new InvalidOperationException("QkdDriver.sln not found above " + source);
    }

    /// <summary>The report conforms to its committed schema (required fields, JSON types).</summary>
    public static void AssertConforms(string reportJson, string schemaName)
    {
        string schema = File.ReadAllText(Path.Combine(RepositoryRoot(), LabReport.SchemaPath(schemaName)));
        var problems = LabReportSchema.Check(reportJson, schema);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }
}
