using System.Runtime.CompilerServices;
using System.Text;

namespace Qkd.Protocol.Tests;

/// <summary>
/// Reads the hex test vectors in firmware-protocols/vectors/ (format: firmware-protocols/vectors/README.md). The text
/// files are the source of truth; this parser is deliberately self-contained (it needs nothing but the BCL) so other
/// test projects can link it with &lt;Compile Include="..." Link="..." /&gt;.
/// </summary>
public static class ProtocolVectors
{
    /// <summary>One non-comment line: its columns (trimmed), and where it came from for failure messages.</summary>
    public sealed record Line(string File, int Number, string[] Columns)
    {
        public string Name => Columns[0];
        public override string ToString() => $"{File}:{Number} {Name}";
    }

    /// <summary>A line of cobs.txt: <see cref="Decoded"/> is null for invalid encodings.</summary>
    public sealed record CobsVector(string Name, string Description, byte[]? Decoded, byte[] Encoded);

    /// <summary>A line of frames-valid.txt or frames-invalid.txt. <see cref="Raw"/> is null for byte-stream-only vectors.</summary>
    public sealed record FrameVector(string Name, string Description, byte[]? Raw, byte[] Stream, Result Expected, Result? PacketExpected)
    {
        public override string ToString() => Name;
    }

    /// <summary>A line of streams.txt (one byte stream) or packets.txt (one or more USB transfers).</summary>
    public sealed record SequenceVector(string Name, string Description, byte[][] Chunks, IReadOnlyDictionary<string, string> Expected)
    {
        public override string ToString() => Name;
    }

    /// <summary>A line of payloads.txt.</summary>
    public sealed record PayloadVector(string Name, string Message, byte[] Payload, Result Expected)
    {
        public override string ToString() => Name;
    }

    /// <summary>"ok k=v ..." or "error Reason".</summary>
    public sealed record Result(bool Ok, string? Error, IReadOnlyDictionary<string, string> Fields)
    {
        public static Result Parse(string text)
        {
            text = text.Trim();
            if (text == "ok") return new Result(true, null, new Dictionary<string, string>());
            if (text.StartsWith("ok ", StringComparison.Ordinal)) return new Result(true, null, ParseFields(text[3..]));
            if (text.StartsWith("error ", StringComparison.Ordinal)) return new Result(false, text[6..].Trim(), new Dictionary<string, string>());
            throw new FormatException($"Expected 'ok ...' or 'error <reason>', got '{text}'.");
        }
    }

    /// <summary>The vectors folder, found by walking up from this source file (tests run from their build output).</summary>
    public static string Folder([CallerFilePath] string thisFile = "")
    {
        for (var dir = new DirectoryInfo(Path.GetDirectoryName(thisFile)!); dir is not null; dir = dir.Parent)
        {
            string candidate = Path.Combine(dir.FullName, "firmware-protocols", "vectors");
            if (Directory.Exists(candidate)) return candidate;
        }
        throw new DirectoryNotFoundException($"firmware-protocols/vectors not found above {thisFile}.");
    }

    public static IReadOnlyList<Line> Read(string file)
    {
        string path = Path.Combine(Folder(), file);
        var result = new List<Line>();
        string[] lines = File.ReadAllLines(path);
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].Trim();
            if (line.Length == 0 || line[0] == '#') continue;
            result.Add(new Line(file, i + 1, line.Split('|').Select(c => c.Trim()).ToArray()));
        }
        return result;
    }

    public static IReadOnlyList<CobsVector> Cobs() =>
        Read("cobs.txt").Select(l => new CobsVector(l.Name, l.Columns[1], l.Columns[2] == "error" ? null : Hex(l.Columns[2]), Hex(l.Columns[3]))).ToList();

    public static IReadOnlyList<FrameVector> Frames(string file) =>
        Read(file).Select(l => new FrameVector(l.Name, l.Columns[1], l.Columns[2] == "-" ? null : Hex(l.Columns[2]), Hex(l.Columns[3]),
            Result.Parse(l.Columns[4]), l.Columns[5] == "-" ? null : Result.Parse(l.Columns[5]))).ToList();

    public static IReadOnlyList<SequenceVector> Sequences(string file) =>
        Read(file).Select(l => new SequenceVector(l.Name, l.Columns[1], l.Columns[2].Split('/').Select(Hex).ToArray(), ParseFields(l.Columns[3]))).ToList();

    public static IReadOnlyList<PayloadVector> Payloads() =>
        Read("payloads.txt").Select(l => new PayloadVector(l.Name, l.Columns[1], Hex(l.Columns[2]), Result.Parse(l.Columns[3]))).ToList();

    /// <summary>
    /// Hex with optional whitespace between bytes; a token "XX*N" is the byte XX repeated N times (decimal); "empty"
    /// is no bytes.
    /// </summary>
    public static byte[] Hex(string text)
    {
        var bytes = new List<byte>();
        foreach (string token in text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (token == "empty") continue;
            int star = token.IndexOf('*');
            if (star >= 0)
            {
                if (star != 2) throw new FormatException($"Run token '{token}': one byte, then '*', then a count.");
                byte value = Convert.ToByte(token[..2], 16);
                int count = int.Parse(token[3..]);
                for (int i = 0; i < count; i++) bytes.Add(value);
            }
            else
            {
                bytes.AddRange(Convert.FromHexString(token));
            }
        }
        return bytes.ToArray();
    }

    /// <summary>The inverse of <see cref="Hex"/>: runs of at least <paramref name="minRun"/> equal bytes become "XX*N".</summary>
    public static string ToHex(ReadOnlySpan<byte> data, int minRun = 16)
    {
        if (data.IsEmpty) return "empty";
        var text = new StringBuilder();
        int i = 0;
        while (i < data.Length)
        {
            int j = i;
            while (j < data.Length && data[j] == data[i]) j++;
            if (j - i >= minRun)
            {
                if (text.Length > 0 && text[^1] != ' ') text.Append(' ');
                text.Append($"{data[i]:X2}*{j - i} ");
            }
            else
            {
                for (int k = i; k < j; k++) text.Append($"{data[k]:X2}");
            }
            i = j;
        }
        return text.ToString().TrimEnd();
    }

    /// <summary>Space-separated key=value pairs; a value in double quotes may hold spaces, \" and \\.</summary>
    public static IReadOnlyDictionary<string, string> ParseFields(string text)
    {
        var fields = new Dictionary<string, string>();
        int i = 0;
        while (i < text.Length)
        {
            if (text[i] == ' ') { i++; continue; }
            int eq = text.IndexOf('=', i);
            if (eq < 0) throw new FormatException($"Field without '=' in '{text}'.");
            string key = text[i..eq];
            i = eq + 1;
            var value = new StringBuilder();
            if (i < text.Length && text[i] == '"')
            {
                for (i++; i < text.Length && text[i] != '"'; i++)
                {
                    if (text[i] == '\\') i++;
                    value.Append(text[i]);
                }
                i++; // closing quote
            }
            else
            {
                for (; i < text.Length && text[i] != ' '; i++) value.Append(text[i]);
            }
            fields.Add(key, value.ToString());
        }
        return fields;
    }

    public static string Quote(string text) => "\"" + text.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";
}
