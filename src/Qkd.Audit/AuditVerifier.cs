using System.Text.Json;

namespace Qkd.Audit;

/// <summary>
/// Checks a log against its key: every line's MAC, that sequence numbers run 0, 1, 2, … across the rotated files and
/// the active one, that each line carries the hash of the line before it, and that the sealed head file names a line
/// the log holds (so lines cut from the end show). Stops at the first bad line and says why.
/// </summary>
public static class AuditVerifier
{
    /// <summary>The head file kept beside a log.</summary>
    public static string HeadPath(string logPath) => logPath + ".head";

    /// <summary>The rotated files of a log, in chain order (their names end in the first sequence number, 12 digits).</summary>
    public static IReadOnlyList<string> RotatedFiles(string logPath)
    {
        string full = Path.GetFullPath(logPath);
        string directory = Path.GetDirectoryName(full)!, name = Path.GetFileName(full);
        if (!Directory.Exists(directory)) return [];
        return Directory.EnumerateFiles(directory, name + ".*")
            .Where(f => Path.GetFileName(f) is { } file && file.Length == name.Length + 13 && file[name.Length] == '.' && file[(name.Length + 1)..].All(char.IsAsciiDigit))
            .Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The name a log's active file takes when it is rotated.</summary>
    public static string RotatedName(string logPath, long firstSeq) => $"{Path.GetFullPath(logPath)}.{firstSeq:D12}";

    public static AuditVerification Verify(string logPath, AuditKey key)
    {
        string active = Path.GetFullPath(logPath);
        var files = RotatedFiles(active).ToList();
        if (File.Exists(active)) files.Add(active);
        if (files.Count == 0)
            return new AuditVerification { Problem = AuditProblem.Missing, BadFile = active, Reason = "there is no audit log (nor rotated files) at this path" };

        var lines = new List<(string File, long Number, ReadOnlyMemory<byte> Bytes)>();
        long activeFirstIndex = 0, activeBytes = 0;
        foreach (string file in files)
        {
            byte[] content = File.ReadAllBytes(file);
            if (file == active)
            {
                activeFirstIndex = lines.Count;
                activeBytes = content.Length;
            }
            int start = 0;
            long number = 0;
            while (start < content.Length)
            {
                number++;
                int end = Array.IndexOf(content, (byte)'\n', start);
                if (end < 0)
                    return Fail(AuditProblem.IncompleteLine, file, number, "the last line has no line end: the file was cut in the middle of a line");
                lines.Add((file, number, content.AsMemory(start, end - start)));
                start = end + 1;
            }
        }

        // Parsed and authenticated up front: the problem found at the first bad line can then look at the rest
        // (a sequence number that turns up later means lines were moved, not removed).
        var entries = new AuditEntry?[lines.Count];
        var macOk = new bool[lines.Count];
        for (int i = 0; i < lines.Count; i++)
        {
            byte[]? body = AuditLineCodec.Open(lines[i].Bytes.Span, key, out macOk[i]);
            if (body is null) continue;
            try
            {
                entries[i] = JsonSerializer.Deserialize(body, AuditJson.Default.AuditEntry);
            }
            catch (JsonException)
            {
            }
        }

        long expected = 0;
        string previous = AuditLineCodec.Genesis;
        DateTimeOffset? first = null, last = null;
        string? configSha = null;
        var hashes = new string[lines.Count];
        for (int i = 0; i < lines.Count; i++)
        {
            var (file, number, bytes) = lines[i];
            if (!macOk[i])
            {
                if (entries[i] is null && !LooksSealed(bytes.Span))
                    return Fail(AuditProblem.Malformed, file, number, "the line does not end in a MAC field: it was edited or cut");
                if (!macOk.Any(ok => ok))
                    return Fail(AuditProblem.WrongKey, file, number, "no line of the log authenticates with this key: it was written (or forged whole) with another key, or this is not its key");
                return Fail(AuditProblem.Edited, file, number, "its MAC does not match: the line was changed, or written by someone without the key");
            }
            if (entries[i] is not { } entry)
                return Fail(AuditProblem.Malformed, file, number, "it authenticates but is not an audit entry this version reads");
            if (entry.Seq != expected)
            {
                if (i == 0)
                    return Fail(AuditProblem.StartMissing, file, number, $"the log starts at sequence {entry.Seq}, not 0: its first lines or rotated files are missing");
                bool expectedLater = entries.Skip(i + 1).Any(e => e?.Seq == expected);
                if (entry.Seq < expected || expectedLater)
                    return Fail(AuditProblem.Reordered, file, number, $"it has sequence {entry.Seq} where {expected} belongs: lines were moved or duplicated");
                return Fail(AuditProblem.Removed, file, number, $"it has sequence {entry.Seq} after {expected - 1}: {(entry.Seq - expected == 1 ? $"line {expected} is" : $"lines {expected}..{entry.Seq - 1} are")} missing");
            }
            if (entry.Prev != previous)
                return Fail(AuditProblem.ChainBroken, file, number, "it authenticates but does not carry the previous line's hash: it was copied in from another log under the same key");
            previous = hashes[i] = AuditLineCodec.Hash(bytes.Span);
            first ??= entry.Time;
            last = entry.Time;
            if (entry.Event.Kind == AuditEventKind.NodeStarted) configSha = entry.Event.ConfigSha256;
            expected++;
        }

        var verified = new AuditVerification
        {
            Lines = lines.Count,
            Files = files,
            FirstTime = first,
            LastTime = last,
            LastSeq = expected - 1,
            LastHash = previous,
            LastConfigSha256 = configSha,
            ActiveFirstSeq = activeFirstIndex,
            ActiveBytes = activeBytes,
        };

        string headPath = HeadPath(active);
        if (!File.Exists(headPath))
            return verified with { Problem = AuditProblem.HeadMismatch, BadFile = headPath, Reason = "the head file is missing: lines cut from the end of the log could not be seen" };
        byte[] headLine = File.ReadAllBytes(headPath);
        var headBody = AuditLineCodec.Open(headLine.AsSpan().TrimEnd((byte)'\n'), key, out bool headOk);
        AuditHead? head = null;
        if (headBody is not null && headOk)
        {
            try { head = JsonSerializer.Deserialize(headBody, AuditJson.Default.AuditHead); }
            catch (JsonException) { }
        }
        if (head is null)
            return verified with { Problem = AuditProblem.HeadMismatch, BadFile = headPath, Reason = "the head file does not authenticate with this key" };
        verified = verified with { HeadSeq = head.Seq };
        if (head.Seq > verified.LastSeq)
            return verified with
            {
                Problem = AuditProblem.Truncated, BadFile = lines.Count > 0 ? lines[^1].File : active, BadLine = lines.Count > 0 ? lines[^1].Number + 1 : 1,
                Reason = $"the log ends at sequence {verified.LastSeq} but its head records sequence {head.Seq}: {head.Seq - verified.LastSeq} line(s) were cut from the end",
            };
        string sealedHash = head.Seq < 0 ? AuditLineCodec.Genesis : hashes[head.Seq];
        if (sealedHash != head.Hash)
            return verified with { Problem = AuditProblem.HeadMismatch, BadFile = headPath, Reason = $"the head seals another line {head.Seq} than the log holds" };
        // A head one line behind is what a crash between writing a line and sealing it leaves; more is not.
        if (head.Seq < verified.LastSeq - 1)
            return verified with { Problem = AuditProblem.HeadMismatch, BadFile = headPath, Reason = $"the head records sequence {head.Seq}, {verified.LastSeq - head.Seq} lines before the log's end: the head file is an old copy" };
        return verified;

        AuditVerification Fail(AuditProblem problem, string file, long number, string reason) =>
            new() { Files = files, Problem = problem, BadFile = file, BadLine = number, Reason = reason };
    }

    private static bool LooksSealed(ReadOnlySpan<byte> line) => line.Length > 70 && line.EndsWith("\"}"u8) && line[^70..].StartsWith(",\"mac\":\""u8);
}
