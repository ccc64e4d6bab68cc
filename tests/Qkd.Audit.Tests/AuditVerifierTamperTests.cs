namespace Qkd.Audit.Tests;

/// <summary>Each kind of tampering an operator must be shown: the verifier names the first bad line and the problem.</summary>
public sealed class AuditVerifierTamperTests : IDisposable
{
    private readonly AuditLogFixture _log = new();

    public AuditVerifierTamperTests() => _log.WriteSample(10);

    public void Dispose() => _log.Dispose();

    [Fact]
    public void An_untouched_log_verifies_with_its_line_count_and_time_span()
    {
        var result = _log.Verify();
        Assert.True(result.Ok, result.Summary());
        Assert.Equal(10, result.Lines);
        Assert.Equal(9, result.LastSeq);
        Assert.Equal(9, result.HeadSeq);
        Assert.NotNull(result.FirstTime);
        Assert.StartsWith("OK: 10 line(s), sequence 0..9, ", result.Summary());
    }

    [Fact]
    public void An_edited_field_is_named_at_its_line()
    {
        var lines = _log.Lines();
        Assert.Contains("\"enc_keys\"", lines[1]);
        lines[1] = lines[1].Replace("\"enc_keys\"", "\"dec_keys\"");
        _log.WriteLines(lines);

        var result = _log.Verify();
        Assert.Equal(AuditProblem.Edited, result.Problem);
        Assert.Equal(2, result.BadLine);
        Assert.Contains("line 2: edited", result.Summary());
    }

    [Fact]
    public void A_deleted_line_is_named_as_removed()
    {
        var lines = _log.Lines();
        lines.RemoveAt(4);
        _log.WriteLines(lines);

        var result = _log.Verify();
        Assert.Equal(AuditProblem.Removed, result.Problem);
        Assert.Equal(5, result.BadLine);
        Assert.Contains("line 4 is missing", result.Reason);
    }

    [Fact]
    public void Swapped_lines_are_named_as_reordered()
    {
        var lines = _log.Lines();
        (lines[3], lines[6]) = (lines[6], lines[3]);
        _log.WriteLines(lines);

        var result = _log.Verify();
        Assert.Equal(AuditProblem.Reordered, result.Problem);
        Assert.Equal(4, result.BadLine);
    }

    [Fact]
    public void A_line_inserted_without_the_key_is_named()
    {
        // The forger copies a real line's shape and changes what it says; without the key its MAC cannot match.
        var lines = _log.Lines();
        lines.Insert(5, lines[4].Replace("\"seq\":4", "\"seq\":5"));
        _log.WriteLines(lines);

        var result = _log.Verify();
        Assert.Equal(AuditProblem.Edited, result.Problem);
        Assert.Equal(6, result.BadLine);
    }

    [Fact]
    public void A_duplicated_line_is_named_as_reordered()
    {
        var lines = _log.Lines();
        lines.Insert(5, lines[2]);
        _log.WriteLines(lines);

        var result = _log.Verify();
        Assert.Equal(AuditProblem.Reordered, result.Problem);
        Assert.Equal(6, result.BadLine);
    }

    [Fact]
    public void Lines_cut_from_the_end_are_caught_by_the_head()
    {
        var lines = _log.Lines();
        _log.WriteLines(lines.Take(7));

        var result = _log.Verify();
        Assert.Equal(AuditProblem.Truncated, result.Problem);
        Assert.Equal(8, result.BadLine);
        Assert.Contains("head records sequence 9", result.Reason);
    }

    [Fact]
    public void A_file_cut_mid_line_is_named_as_truncated()
    {
        byte[] content = File.ReadAllBytes(_log.LogPath);
        File.WriteAllBytes(_log.LogPath, content[..^40]);

        var result = _log.Verify();
        Assert.Equal(AuditProblem.IncompleteLine, result.Problem);
        Assert.Equal(10, result.BadLine);
    }

    [Fact]
    public void Removing_the_head_to_hide_a_truncation_is_caught()
    {
        _log.WriteLines(_log.Lines().Take(7));
        File.Delete(AuditVerifier.HeadPath(_log.LogPath));

        var result = _log.Verify();
        Assert.Equal(AuditProblem.HeadMismatch, result.Problem);
        Assert.Contains("head file is missing", result.Reason);
    }

    [Fact]
    public void An_old_copy_of_the_head_with_a_truncated_log_is_caught()
    {
        // Keep the head of a shorter log, write on, then cut the log back and put the old head back.
        string head = AuditVerifier.HeadPath(_log.LogPath);
        byte[] oldHead = File.ReadAllBytes(head);
        byte[] oldLog = File.ReadAllBytes(_log.LogPath);
        using (var log = AuditLog.Open(_log.LogPath, _log.Key, AuditLogFixture.Fast(_log.LogPath)))
            for (int i = 0; i < 5; i++) log.Write(AuditLogFixture.SampleEvent(i));
        Assert.True(_log.Verify().Ok);

        // The old head matches the old log exactly: the files alone cannot tell (the head_sequence gauge can, README).
        File.WriteAllBytes(_log.LogPath, oldLog);
        File.WriteAllBytes(head, oldHead);
        Assert.True(_log.Verify().Ok);

        // An old head beside the full log is caught.
        using (var log = AuditLog.Open(_log.LogPath, _log.Key, AuditLogFixture.Fast(_log.LogPath)))
            for (int i = 0; i < 5; i++) log.Write(AuditLogFixture.SampleEvent(i));
        File.WriteAllBytes(head, oldHead);
        var result = _log.Verify();
        Assert.Equal(AuditProblem.HeadMismatch, result.Problem);
    }

    [Fact]
    public void Another_key_verifies_no_line()
    {
        using var other = AuditKey.Generate();
        var result = _log.Verify(other);
        Assert.Equal(AuditProblem.WrongKey, result.Problem);
        Assert.Equal(1, result.BadLine);
    }

    [Fact]
    public void A_log_forged_whole_with_another_key_is_refused_by_the_real_key()
    {
        using var forger = AuditKey.Generate();
        File.Delete(_log.LogPath);
        File.Delete(AuditVerifier.HeadPath(_log.LogPath));
        using (var log = AuditLog.Open(_log.LogPath, forger, AuditLogFixture.Fast(_log.LogPath)))
            log.Write(AuditEvent.SessionEnded(1, "nothing to see"));

        Assert.True(_log.Verify(forger).Ok);
        Assert.Equal(AuditProblem.WrongKey, _log.Verify().Problem);
    }

    [Fact]
    public void A_line_from_another_log_under_the_same_key_breaks_the_chain()
    {
        string otherPath = Path.Combine(_log.Directory, "other.jsonl");
        using (var other = AuditLog.Open(otherPath, _log.Key, AuditLogFixture.Fast(otherPath)))
            for (int i = 0; i < 10; i++) other.Write(AuditEvent.SessionStarted(100 + i));
        var lines = _log.Lines();
        lines[6] = File.ReadAllLines(otherPath)[6];
        _log.WriteLines(lines);

        var result = _log.Verify();
        Assert.Equal(AuditProblem.ChainBroken, result.Problem);
        Assert.Equal(7, result.BadLine);
    }

    [Fact]
    public void Removing_the_first_line_is_named()
    {
        _log.WriteLines(_log.Lines().Skip(1));
        Assert.Equal(AuditProblem.StartMissing, _log.Verify().Problem);
    }

    [Fact]
    public void A_tampered_log_is_not_continued()
    {
        var lines = _log.Lines();
        lines[2] = lines[2].Replace("sae-bob-1", "sae-eve-1");
        _log.WriteLines(lines);
        var e = Assert.Throws<AuditLogException>(() => AuditLog.Open(_log.LogPath, _log.Key, AuditLogFixture.Fast(_log.LogPath)));
        Assert.Contains("line 3: edited", e.Message);
        Assert.Equal(lines, _log.Lines()); // left as evidence
    }
}
