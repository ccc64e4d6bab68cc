using System.Text;

namespace Qkd.Audit.Tests;

/// <summary>A temporary folder with an audit log in it, and helpers that tamper with the log's lines.</summary>
internal sealed class AuditLogFixture : IDisposable
{
    public AuditLogFixture()
    {
        Directory = Path.Combine(Path.GetTempPath(), "qkd-audit-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        LogPath = Path.Combine(Directory, "audit.jsonl");
    }

    public string Directory { get; }
    public string LogPath { get; }
    public AuditKey Key { get; } = AuditKey.Generate();

    public static AuditLogOptions Fast(string path, long maxFileBytes = 0) => new(path, "", maxFileBytes, FsyncEveryLine: false);

    /// <summary>Writes <paramref name="count"/> varied events (sessions, deliveries, alarms) and closes the log.</summary>
    public void WriteSample(int count, long maxFileBytes = 0)
    {
        using var log = AuditLog.Open(LogPath, Key, Fast(LogPath, maxFileBytes));
        for (int i = 0; i < count; i++) log.Write(SampleEvent(i));
    }

    public static AuditEvent SampleEvent(int i) => (i % 5) switch
    {
        0 => AuditEvent.SessionStarted(i),
        1 => AuditEvent.KeysDelivered("enc_keys", "sae-alice-1", "sae-bob-1", [Guid.NewGuid(), Guid.NewGuid()]),
        2 => AuditEvent.KeysDelivered("dec_keys", "sae-alice-1", "sae-bob-1", [Guid.NewGuid()]),
        3 => AuditEvent.AlarmRaised("qber-rise", "security", $"QBER {i}% over 11 %"),
        _ => AuditEvent.SessionEnded(i, "key"),
    };

    public List<string> Lines() => File.ReadAllText(LogPath).Split('\n', StringSplitOptions.RemoveEmptyEntries).ToList();

    public void WriteLines(IEnumerable<string> lines) => File.WriteAllText(LogPath, string.Concat(lines.Select(l => l + "\n")), new UTF8Encoding(false));

    public AuditVerification Verify(AuditKey? key = null) => AuditVerifier.Verify(LogPath, key ?? Key);

    public void Dispose()
    {
        Key.Dispose();
        try { System.IO.Directory.Delete(Directory, recursive: true); }
        catch (IOException) { }
    }
}
