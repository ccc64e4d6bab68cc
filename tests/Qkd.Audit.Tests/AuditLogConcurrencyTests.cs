namespace Qkd.Audit.Tests;

/// <summary>Several threads writing at once still give one unbroken chain, every event once.</summary>
public sealed class AuditLogConcurrencyTests
{
    [Fact]
    public void A_log_written_by_several_threads_verifies()
    {
        using var fixture = new AuditLogFixture();
        const int threads = 8, each = 250;
        using (var log = AuditLog.Open(fixture.LogPath, fixture.Key, AuditLogFixture.Fast(fixture.LogPath, maxFileBytes: 64 << 10)))
        {
            using var start = new Barrier(threads);
            var writers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
            {
                start.SignalAndWait();
                for (int i = 0; i < each; i++) log.Write(AuditEvent.SessionEnded(t * 1_000_000L + i));
            })).ToList();
            writers.ForEach(w => w.Start());
            writers.ForEach(w => w.Join());
        }

        var result = fixture.Verify();
        Assert.True(result.Ok, result.Summary());
        Assert.Equal(threads * each, result.Lines);
        Assert.True(result.Files.Count > 1, "the test meant to cross a rotation");
        // Every event is there once: the sessions written, read back from all files.
        var sessions = result.Files.SelectMany(File.ReadAllLines)
            .Select(l => System.Text.RegularExpressions.Regex.Match(l, "\"session\":(\\d+)").Groups[1].Value).ToList();
        Assert.Equal(threads * each, sessions.Distinct().Count());
    }
}
