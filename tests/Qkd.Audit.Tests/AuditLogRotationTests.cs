namespace Qkd.Audit.Tests;

/// <summary>The chain runs across rotated files and across restarts; a node start records its configuration's hash.</summary>
public sealed class AuditLogRotationTests
{
    [Fact]
    public void Rotated_files_chain_and_a_missing_one_is_named()
    {
        using var fixture = new AuditLogFixture();
        fixture.WriteSample(100, maxFileBytes: 4096);
        var files = AuditVerifier.RotatedFiles(fixture.LogPath);
        Assert.True(files.Count >= 3);
        var result = fixture.Verify();
        Assert.True(result.Ok, result.Summary());
        Assert.Equal(100, result.Lines);

        File.Delete(files[1]);
        var broken = fixture.Verify();
        Assert.Equal(AuditProblem.Removed, broken.Problem);
        Assert.Equal(files[2], broken.BadFile);
        Assert.Equal(1, broken.BadLine);

        File.Delete(files[0]);
        Assert.Equal(AuditProblem.StartMissing, fixture.Verify().Problem);
    }

    [Fact]
    public void A_reopened_log_continues_the_chain_and_records_a_changed_configuration()
    {
        using var fixture = new AuditLogFixture();
        string config = Path.Combine(fixture.Directory, "alice.json");
        File.WriteAllText(config, "{\"role\":\"alice\"}");
        using (var log = AuditLog.Open(fixture.LogPath, fixture.Key))
            log.WriteNodeStarted("alice", "demo-link", config);
        using (var log = AuditLog.Open(fixture.LogPath, fixture.Key))
        {
            Assert.Equal(1, log.NextSequence);
            log.WriteNodeStarted("alice", "demo-link", config); // unchanged: no change line
        }
        File.WriteAllText(config, "{\"role\":\"alice\",\"sessions\":2}");
        using (var log = AuditLog.Open(fixture.LogPath, fixture.Key))
            log.WriteNodeStarted("alice", "demo-link", config);

        var result = fixture.Verify();
        Assert.True(result.Ok, result.Summary());
        var lines = fixture.Lines();
        Assert.Equal(4, lines.Count);
        Assert.Contains("\"kind\":\"configurationChanged\"", lines[3]);
        Assert.Contains("\"previousConfigSha256\"", lines[3]);
        Assert.DoesNotContain("configurationChanged", lines[1]);
    }

    [Fact]
    public void A_node_with_its_log_but_without_its_key_refuses_naming_the_key_file()
    {
        using var fixture = new AuditLogFixture();
        var options = new AuditLogOptions("audit.jsonl", "audit.key", FsyncEveryLine: false);
        var (log, key) = AuditLog.OpenConfigured(options, fixture.Directory);
        log.Write(AuditEvent.SessionStarted(1));
        log.Dispose();
        key.Dispose();
        string keyFile = Path.Combine(fixture.Directory, "audit.key");
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));

        File.Delete(keyFile);
        var e = Assert.Throws<AuditLogException>(() => AuditLog.OpenConfigured(options, fixture.Directory));
        Assert.Contains(keyFile, e.Message);
        Assert.DoesNotContain('\n', e.Message);
        Assert.False(File.Exists(keyFile)); // no new key made over an existing log
    }

    [Fact]
    public void A_key_file_others_can_read_is_refused()
    {
        if (OperatingSystem.IsWindows()) return;
        using var fixture = new AuditLogFixture();
        string keyFile = Path.Combine(fixture.Directory, "audit.key");
        AuditKey.WriteNewKeyFile(keyFile);
        File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        var e = Assert.Throws<AuditLogException>(() => AuditKey.FromFile(keyFile));
        Assert.Contains("chmod 600", e.Message);
    }

    [Fact]
    public void Key_deliveries_carry_ids_and_sae_ids_and_nothing_else()
    {
        using var fixture = new AuditLogFixture();
        var id = Guid.NewGuid();
        using (var log = AuditLog.Open(fixture.LogPath, fixture.Key, AuditLogFixture.Fast(fixture.LogPath)))
            log.Write(AuditEvent.KeysDelivered("dec_keys", "sae-alice-1", "sae-bob-1", [id]));
        string line = fixture.Lines().Single();
        Assert.Matches("^\\{\"seq\":0,\"time\":\"[^\"]+\",\"prev\":\"0{64}\",\"event\":\\{\"kind\":\"keysDelivered\",\"operation\":\"dec_keys\"," +
                       "\"masterSaeId\":\"sae-alice-1\",\"slaveSaeId\":\"sae-bob-1\",\"keyIds\":\\[\"" + id + "\"\\]\\},\"mac\":\"[0-9a-f]{64}\"\\}$", line);
    }
}
