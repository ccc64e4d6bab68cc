using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Qkd.Cli.Commands;
using Qkd.Node.Service;

namespace Qkd.Cli.Tests;

/// <summary>
/// `qkd alice` / `qkd bob` that cannot start (or fail once started) exit non-zero, with the code of the kind of failure
/// (src/Qkd.Cli/README.md), and say so in one line naming the field and the file or address at fault.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // file modes
public sealed class NodeStartupErrorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-startup").FullName;
    private readonly List<IDisposable> _held = [];

    public NodeStartupErrorTests() => NodeSetup.Write(_dir, basePort: FreePorts.Block());

    public void Dispose()
    {
        foreach (var held in _held) held.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private string Config(string role) => Path.Combine(_dir, role + ".json");

    /// <summary>Runs the node in process and returns its exit code and the one line it printed on stderr.</summary>
    private static async Task<(int Code, string Line)> Start(string role, string config)
    {
        var (code, _, error) = await Cli.Run(role, "--config", config);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{error}");
        Assert.DoesNotContain("   at ", error);
        return (code, lines[0]);
    }

    private void Edit(string role, Action<JsonObject> edit)
    {
        var json = JsonNode.Parse(File.ReadAllText(Config(role)))!.AsObject();
        edit(json);
        File.WriteAllText(Config(role), json.ToJsonString());
    }

    /// <summary>A port that another program holds for the rest of the test.</summary>
    private int TakenPort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        _held.Add(listener.Server);
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    [Fact]
    public async Task A_missing_config_file_is_a_configuration_error()
    {
        string missing = Path.Combine(_dir, "nowhere.json");
        var (code, line) = await Start("bob", missing);
        Assert.Equal(NodeExitCode.Configuration, code);
        Assert.Contains(missing, line);
    }

    [Fact]
    public async Task An_unknown_field_and_a_wrong_role_are_configuration_errors_naming_them()
    {
        Edit("bob", json => json["sesions"] = 2);
        var (code, line) = await Start("bob", Config("bob"));
        Assert.Equal(NodeExitCode.Configuration, code);
        Assert.Contains("sesions", line);

        (code, line) = await Start("bob", Config("alice"));
        Assert.Equal(NodeExitCode.Configuration, code);
        Assert.Contains("role is \"alice\"", line);
    }

    [Fact]
    public async Task An_audit_log_without_its_key_is_a_file_error_naming_the_key_file()
    {
        File.WriteAllText(Path.Combine(_dir, "bob-audit.jsonl"), "");
        string key = Path.Combine(_dir, "bob-audit.key");
        File.Delete(key);
        var (code, line) = await Start("bob", Config("bob"));
        Assert.Equal(NodeExitCode.Files, code);
        Assert.Contains(key, line);
        Assert.False(File.Exists(key));
    }

    [Fact]
    public async Task A_missing_pre_shared_secret_is_a_file_error_naming_the_field_and_the_file()
    {
        File.Delete(Path.Combine(_dir, "pre-shared.secret"));
        var (code, line) = await Start("bob", Config("bob"));
        Assert.Equal(NodeExitCode.Files, code);
        Assert.StartsWith("error: classicalChannel.preSharedSecretFile: ", line);
        Assert.Contains(Path.Combine(_dir, "pre-shared.secret"), line);
    }

    [Fact]
    public async Task A_pre_shared_secret_others_can_read_is_refused()
    {
        File.SetUnixFileMode(Path.Combine(_dir, "pre-shared.secret"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        var (code, line) = await Start("alice", Config("alice"));
        Assert.Equal(NodeExitCode.Files, code);
        Assert.Contains("classicalChannel.preSharedSecretFile", line);
        Assert.Contains("0600", line);
    }

    [Fact]
    public async Task A_missing_or_malformed_operator_key_is_a_file_error()
    {
        string key = Path.Combine(_dir, "bob-operator.key");
        File.Delete(key);
        var (code, line) = await Start("bob", Config("bob"));
        Assert.Equal(NodeExitCode.Files, code);
        Assert.StartsWith("error: keyPool.operatorKeyFile: ", line);
        Assert.Contains(key, line);

        File.WriteAllText(key, "abcd");
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        (code, line) = await Start("bob", Config("bob"));
        Assert.Equal(NodeExitCode.Files, code);
        Assert.Contains("keyPool.operatorKeyFile", line);
        Assert.Contains("hex digits", line);
    }

    [Fact]
    public async Task Thirty_two_hex_characters_are_not_an_operator_key_even_for_a_fresh_store()
    {
        string key = Path.Combine(_dir, "bob-operator.key");
        File.WriteAllText(key, "0123456789abcdef0123456789abcdef");
        File.SetUnixFileMode(key, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var (code, line) = await Start("bob", Config("bob"));
        Assert.Equal(NodeExitCode.Files, code);
        Assert.StartsWith("error: keyPool.operatorKeyFile: ", line);
        Assert.Contains(key, line);
        Assert.Contains("32 hex digits are 16 bytes", line);
        Assert.False(File.Exists(Path.Combine(_dir, "bob-keys.db"))); // no store was created with it
    }

    [Fact]
    public async Task A_key_pool_put_back_from_an_older_copy_is_a_file_error_naming_both_files()
    {
        var node = NodeConfig.Load(Config("bob"));
        string database = node.PathOf(node.KeyPool.Database);
        var options = new Kme.Pool.SqliteKeyPoolOptions
        {
            DatabasePath = database, LinkId = node.LinkId, Role = Kme.Pool.KmeRole.Bob, KeySizeBits = node.KeyPool.KeySizeBits,
        };
        using (var key = Kme.Pool.OperatorKey.FromFile(node.PathOf(node.KeyPool.OperatorKeyFile!)))
        {
            var bits = new byte[node.KeyPool.KeySizeBits / 8 * 4];
            new Random(3).NextBytes(bits);
            using (var pool = new Kme.Pool.SqliteKeyPool(options, key))
                pool.Accept(0, Core.Bits.PackedBits.FromBytes(bits, bits.Length * 8L));
            File.Copy(database, database + ".backup");
            using (var pool = new Kme.Pool.SqliteKeyPool(options, key))
                pool.TakeAsMaster("sae-bob-1", "sae-alice-1", 1);
        }
        File.Copy(database + ".backup", database, overwrite: true);

        var (code, line) = await Start("bob", Config("bob"));
        Assert.Equal(NodeExitCode.Files, code);
        Assert.StartsWith("error: keyPool.database: ", line);
        Assert.Contains(database + ".generation", line);
        Assert.Contains("earlier copy", line);
    }

    [Fact]
    public async Task A_client_CRL_that_is_missing_or_not_a_CRL_is_a_file_error_naming_the_field()
    {
        Edit("alice", json => json["keyDelivery"]!["clientCrlPaths"] = new JsonArray("sae-ca.crl"));
        var (code, line) = await Start("alice", Config("alice"));
        Assert.Equal(NodeExitCode.Files, code);
        Assert.StartsWith("error: keyDelivery.clientCrlPaths: ", line);
        Assert.Contains(Path.Combine(_dir, "sae-ca.crl"), line);

        File.WriteAllText(Path.Combine(_dir, "sae-ca.crl"), "-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n");
        (code, line) = await Start("alice", Config("alice"));
        Assert.Equal(NodeExitCode.Files, code);
        Assert.StartsWith("error: keyDelivery.clientCrlPaths: ", line);
        Assert.Contains("not a readable X.509 CRL", line);
    }

    [Fact]
    public async Task An_operator_key_variable_that_is_not_set_is_a_configuration_error()
    {
        string variable = "QKD_TEST_UNSET_" + Guid.NewGuid().ToString("N");
        Edit("bob", json => json["keyPool"] = new JsonObject { ["database"] = "bob-keys.db", ["operatorKeyEnvironmentVariable"] = variable });
        var (code, line) = await Start("bob", Config("bob"));
        Assert.Equal(NodeExitCode.Configuration, code);
        Assert.Contains("keyPool.operatorKeyEnvironmentVariable", line);
        Assert.Contains(variable, line);
    }

    [Fact]
    public async Task A_key_pool_database_that_cannot_open_is_a_file_error_naming_it()
    {
        string database = Path.Combine(_dir, "bob-keys.db");
        File.WriteAllText(database, string.Concat(Enumerable.Repeat("not a SQLite database ", 400)));
        var (code, line) = await Start("bob", Config("bob"));
        Assert.Equal(NodeExitCode.Files, code);
        Assert.StartsWith("error: keyPool.database: ", line);
    }

    [Fact]
    public async Task Missing_certificates_are_file_errors_naming_the_field()
    {
        File.Delete(Path.Combine(_dir, "kme-bob.pfx"));
        var (code, line) = await Start("bob", Config("bob"));
        Assert.Equal(NodeExitCode.Files, code);
        Assert.StartsWith("error: keyDelivery.serverCertificatePath: ", line);
        Assert.Contains("kme-bob.pfx", line);

        File.Delete(Path.Combine(_dir, "ca.pem"));
        (code, line) = await Start("alice", Config("alice"));
        Assert.Equal(NodeExitCode.Files, code);
        Assert.StartsWith("error: keyDelivery.trustedClientCaPaths: ", line);
        Assert.Contains("ca.pem", line);
    }

    [Fact]
    public async Task A_key_delivery_port_in_use_is_a_network_error()
    {
        int taken = TakenPort();
        Edit("bob", json => json["keyDelivery"]!["port"] = taken);
        var (code, line) = await Start("bob", Config("bob"));
        Assert.Equal(NodeExitCode.Network, code);
        Assert.StartsWith("error: keyDelivery.port: ", line);
        Assert.Contains(taken.ToString(), line);
    }

    [Fact]
    public async Task A_metrics_port_in_use_is_a_network_error()
    {
        int taken = TakenPort();
        Edit("alice", json => json["metrics"] = new JsonObject { ["listen"] = $"127.0.0.1:{taken}" });
        var (code, line) = await Start("alice", Config("alice"));
        Assert.Equal(NodeExitCode.Network, code);
        Assert.StartsWith("error: metrics.listen: ", line);
    }

    [Fact]
    public async Task Bobs_channel_and_fibre_ports_in_use_are_network_errors_naming_the_field()
    {
        // The KME link listens at start; the session channel and the fibre when the first session opens (the node has
        // started by then, and still exits with the code and the line).
        int taken = TakenPort();
        Edit("bob", json => json["emulator"]!["fibre"] = $"127.0.0.1:{taken}");
        var (code, line) = await Start("bob", Config("bob"));
        Assert.Equal(NodeExitCode.Network, code);
        Assert.StartsWith("error: emulator.fibre: ", line);
    }

    [Fact]
    public async Task A_host_name_that_does_not_resolve_is_a_network_error_naming_the_field()
    {
        Edit("alice", json => json["classicalChannel"]!["endpoint"] = "no-such-bob.invalid:7100");
        var (code, line) = await Start("alice", Config("alice"));
        Assert.Equal(NodeExitCode.Network, code);
        Assert.StartsWith("error: classicalChannel.endpoint \"no-such-bob.invalid:7100\": the host name no-such-bob.invalid does not resolve", line);
    }

    [Fact(Timeout = 120_000)]
    public async Task As_a_process_a_start_up_failure_prints_one_line_and_no_stack_trace()
    {
        File.Delete(Path.Combine(_dir, "pre-shared.secret"));
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = _dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string arg in new[] { Path.Combine(AppContext.BaseDirectory, "qkd.dll"), "alice", "--config", Config("alice") }) info.ArgumentList.Add(arg);
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var error = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
        string all = await output + await error;

        Assert.Equal(NodeExitCode.Files, process.ExitCode);
        Assert.StartsWith("error: classicalChannel.preSharedSecretFile: ", (await error).Split('\n', StringSplitOptions.RemoveEmptyEntries).Single());
        Assert.DoesNotContain("   at ", all);
        Assert.DoesNotContain("Exception", all);
    }
}
