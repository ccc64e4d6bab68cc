using System.Runtime.CompilerServices;

namespace Qkd.Acquisition.Tests.Replay;

/// <summary>
/// Reads the hex test vectors out of a firmware-protocols document (fenced blocks whose first line is
/// "# vector: name"), so the tests check the document itself rather than a copy of it.
/// </summary>
internal static class ProtocolDocumentVectors
{
    public static string Document(string name, [CallerFilePath] string thisFile = "")
    {
        for (var dir = new DirectoryInfo(Path.GetDirectoryName(thisFile)!); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "firmware-protocols", name);
            if (File.Exists(candidate)) return File.ReadAllText(candidate);
        }
        throw new FileNotFoundException($"firmware-protocols/{name} not found above {thisFile}.");
    }

    /// <summary>The lines of the named vector block, without the "# vector:" line.</summary>
    public static IReadOnlyList<string> Lines(string document, string vector)
    {
        string[] lines = document.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Trim() != $"# vector: {vector}" || i == 0 || !lines[i - 1].TrimStart().StartsWith("```")) continue;
            var body = new List<string>();
            for (int j = i + 1; j < lines.Length && !lines[j].TrimStart().StartsWith("```"); j++)
                if (lines[j].Trim().Length > 0) body.Add(lines[j].Trim());
            return body;
        }
        throw new InvalidOperationException($"No vector block \"{vector}\" in the document.");
    }

    /// <summary>A hex dump block ("0010: 01 02 ...") as bytes; checks the offsets are consecutive.</summary>
    public static byte[] HexDump(IReadOnlyList<string> lines)
    {
        var bytes = new List<byte>();
        foreach (string line in lines)
        {
            int colon = line.IndexOf(':');
            Assert.Equal(bytes.Count, Convert.ToInt32(line[..colon], 16));
            bytes.AddRange(Convert.FromHexString(line[(colon + 1)..].Replace(" ", "")));
        }
        return bytes.ToArray();
    }
}
