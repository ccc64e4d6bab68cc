using System.Globalization;
using System.Text;
using Qkd.Protocol;
using Qkd.Protocol.Messages;

namespace Qkd.Protocol.Tests;

/// <summary>
/// The parameter tables of the device documents are rendered from <see cref="ParameterCatalog"/>, so the documents
/// cannot drift from the code. On a mismatch the test prints the table to paste between the markers (or rewrites the
/// documents when QKD_REGENERATE_VECTORS=1).
/// </summary>
public class ParameterDocumentTests
{
    public const string Begin = "<!-- parameter-table: generated from ParameterCatalog by tests/Qkd.Protocol.Tests/ParameterDocumentTests.cs; do not edit by hand -->";
    public const string End = "<!-- end parameter-table -->";

    public static TheoryData<string, DeviceClass> Documents => new()
    {
        { "single-photon-detector.md", DeviceClass.SinglePhotonDetector },
        { "laser-modulator.md", DeviceClass.LaserModulator },
        { "time-tagger.md", DeviceClass.TimeTagger },
        { "random-number-generator.md", DeviceClass.RandomNumberGenerator },
    };

    public static string Table(DeviceClass deviceClass)
    {
        var s = new StringBuilder();
        s.AppendLine("| id | name | unit | minimum | maximum | default | per channel | writable | meaning |");
        s.AppendLine("|---|---|---|---:|---:|---:|---|---|---|");
        foreach (var d in ParameterCatalog.For(deviceClass))
        {
            string N(long v) => v.ToString(CultureInfo.InvariantCulture);
            s.AppendLine($"| `0x{(ushort)d.Id:X4}` | {d.Name} (`{d.Id}`) | {d.Unit} | {N(d.Minimum)} | {N(d.Maximum)} | {N(d.Default)} | " +
                         $"{(d.PerChannel ? "yes" : "no (channel 0)")} | {(d.Writable ? "yes" : "no")} | {d.Description} |");
        }
        return s.ToString();
    }

    [Theory]
    [MemberData(nameof(Documents))]
    public void Document_parameter_table_matches_the_catalog(string document, DeviceClass deviceClass)
    {
        string path = Path.Combine(Path.GetDirectoryName(ProtocolVectors.Folder())!, document);
        string text = File.ReadAllText(path).ReplaceLineEndings("\n");
        int begin = text.IndexOf(Begin, StringComparison.Ordinal);
        int end = text.IndexOf(End, StringComparison.Ordinal);
        Assert.True(begin >= 0 && end > begin, $"{document} has no parameter table markers:\n{Begin}\n...\n{End}");
        string expected = Table(deviceClass).ReplaceLineEndings("\n");
        string actual = text[(begin + Begin.Length)..end].Trim('\n') + "\n";
        if (actual == expected) return;
        if (Environment.GetEnvironmentVariable(VectorGenerator.RegenerateVariable) == "1")
        {
            File.WriteAllText(path, text[..(begin + Begin.Length)] + "\n" + expected + text[end..]);
            return;
        }
        Assert.Fail($"The parameter table in {document} differs from ParameterCatalog. Paste this between the markers:\n\n{expected}");
    }

    [Fact]
    public void Catalog_defaults_are_inside_their_ranges_and_ids_carry_their_class()
    {
        foreach (var d in ParameterCatalog.All)
        {
            Assert.True(d.Contains(d.Default), $"{d.Id}: default {d.Default} outside {d.Minimum}..{d.Maximum}");
            Assert.Equal((byte)d.DeviceClass, (byte)((ushort)d.Id >> 8));
        }
    }
}
