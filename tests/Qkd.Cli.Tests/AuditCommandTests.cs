using Qkd.Audit;
using Qkd.Node.Service;

namespace Qkd.Cli.Tests;

/// <summary>`qkd audit verify`: OK with lines and span, or the first bad line; by key file or by the node's config.</summary>
public sealed class AuditCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-audit-cli").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private (string Log, string Key) WriteLog(int lines)
    {
        string log = Path.Combine(_dir, "audit.jsonl"), key = Path.Combine(_dir, "audit.key");
        AuditKey.WriteNewKeyFile(key);
        using var auditKey = AuditKey.FromFile(key);
        using var audit = AuditLog.Open(log, auditKey);
        for (int i = 0; i < lines; i++) audit.Write(AuditEvent.KeysDelivered("enc_keys", "sae-alice-1", "sae-bob-1", [Guid.NewGuid()]));
        return (log, key);
    }

    [Fact]
    public async Task A_good_log_prints_OK_with_its_lines_and_span()
    {
        var (log, key) = WriteLog(5);
        var (code, output, _) = await Cli.Run("audit", "verify", log, "--key", key);
        Assert.Equal(0, code);
        Assert.StartsWith("OK: 5 line(s), sequence 0..4, ", output);
    }

    [Fact]
    public async Task A_tampered_log_names_the_line_and_exits_1()
    {
        var (log, key) = WriteLog(5);
        var lines = File.ReadAllLines(log);
        File.WriteAllLines(log, lines.Where((_, i) => i != 2));
        var (code, _, error) = await Cli.Run("audit", "verify", log, "--key", key);
        Assert.Equal(1, code);
        Assert.Contains("line 3: removed", error);
    }

    [Fact]
    public async Task The_key_can_come_from_the_node_config_written_by_node_init()
    {
        NodeSetup.Write(_dir, basePort: FreePorts.Block());
        string key = Path.Combine(_dir, "alice-audit.key"), log = Path.Combine(_dir, "alice-audit.jsonl");
        Assert.True(File.Exists(key));
        if (!OperatingSystem.IsWindows()) Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(key));
        using (var auditKey = AuditKey.FromFile(key))
        using (var audit = AuditLog.Open(log, auditKey))
            audit.Write(AuditEvent.AlarmRaised("loss-step", "security", "0.3 dB"));

        var (code, output, error) = await Cli.Run("audit", "verify", log, "--config", Path.Combine(_dir, "alice.json"));
        Assert.True(code == 0, output + error);
        (code, _, error) = await Cli.Run("audit", "verify", log, "--config", Path.Combine(_dir, "bob.json"));
        Assert.Equal(1, code);
        Assert.Contains("wrong key", error);
    }

    [Fact]
    public async Task Neither_or_both_key_options_is_a_usage_error()
    {
        var (code, _, error) = await Cli.Run("audit", "verify", Path.Combine(_dir, "x.jsonl"));
        Assert.Equal(2, code);
        Assert.Contains("--key", error);
    }
}
