using System.Net.Security;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Qkd.Node.Service;

namespace Qkd.Cli.Tests;

/// <summary>
/// The production path end to end without hardware: `qkd emulate --link-bench` serves Alice's and Bob's devices on
/// pseudo-terminals, `qkd node init --bench` writes configs whose "devices" sections name them, `qkd bob` and `qkd alice`
/// drive them through System.IO.Ports, and an SAE gets a key from Alice's ETSI 014 server that Bob's hands to its peer
/// SAE with the same bytes.
/// </summary>
public sealed class LinkBenchTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-link-bench").FullName;
    private readonly List<QkdProcess> _processes = [];

    public void Dispose()
    {
        foreach (var p in _processes) p.Dispose();
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { }
    }

    private QkdProcess Start(params string[] args)
    {
        var process = QkdProcess.Start(_dir, args);
        _processes.Add(process);
        return process;
    }

    [Fact(Timeout = 400_000)]
    public async Task Nodes_on_the_link_bench_deliver_a_matching_pair_over_etsi_014()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("The link bench uses Linux pseudo-terminals.");
        string bench = Path.Combine(_dir, "bench"), deployment = Path.Combine(_dir, "deployment");
        var emulate = Start("emulate", "--link-bench", bench);
        emulate.WaitFor("Link bench in", TimeSpan.FromSeconds(60));

        int basePort = 20_000 + Random.Shared.Next(0, 8_000) * 5;
        var init = Start("node", "init", "--dir", deployment, "--base-port", basePort.ToString(), "--sessions", "0", "--bench", bench);
        Assert.True(init.Process.WaitForExit(TimeSpan.FromSeconds(60)), "node init did not finish");
        Assert.True(init.Process.ExitCode == 0, init.Output);
        using (var bobConfig = JsonDocument.Parse(File.ReadAllText(Path.Combine(deployment, "bob.json"))))
        {
            Assert.True(bobConfig.RootElement.TryGetProperty("devices", out var devices), "bob.json has no devices section");
            Assert.StartsWith("/dev/pts/", devices.GetProperty("tagger").GetProperty("serialPort").GetString());
            Assert.False(bobConfig.RootElement.TryGetProperty("emulator", out _), "bob.json still has an emulator section");
        }

        var bob = QkdProcess.Start(deployment, "bob", "--config", "bob.json");
        _processes.Add(bob);
        bob.WaitFor("key delivery on", TimeSpan.FromSeconds(60));
        var alice = QkdProcess.Start(deployment, "alice", "--config", "alice.json");
        _processes.Add(alice);
        Assert.Contains("/dev/pts/", WaitAndRead(alice, "Devices:"));
        bob.WaitFor(": Key, QBER", TimeSpan.FromSeconds(240));

        using var ca = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(deployment, "ca.pem"));
        using var master = Client(deployment, NodeSetup.MasterSae, basePort + 3, ca);
        using var slave = Client(deployment, NodeSetup.SlaveSae, basePort + 4, ca);
        // The key pool takes the block once both ends hold it and the KME link is up: ask until Alice's KME has a key.
        JsonElement issued = default;
        for (int attempt = 0; attempt < 120; attempt++)
        {
            using var response = await master.GetAsync($"api/v1/keys/{NodeSetup.SlaveSae}/enc_keys?number=1", TestContext.Current.CancellationToken);
            if (response.IsSuccessStatusCode)
            {
                issued = JsonDocument.Parse(await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.GetProperty("keys")[0].Clone();
                break;
            }
            Assert.False(alice.Process.HasExited, alice.Output);
            await Task.Delay(1_000, TestContext.Current.CancellationToken);
        }
        Assert.Equal(JsonValueKind.Object, issued.ValueKind);
        string keyId = issued.GetProperty("key_ID").GetString()!;
        using var redeemed = await slave.GetAsync($"api/v1/keys/{NodeSetup.MasterSae}/dec_keys?key_ID={keyId}", TestContext.Current.CancellationToken);
        Assert.True(redeemed.IsSuccessStatusCode, await redeemed.Content.ReadAsStringAsync(TestContext.Current.CancellationToken));
        var pair = JsonDocument.Parse(await redeemed.Content.ReadAsStringAsync(TestContext.Current.CancellationToken)).RootElement.GetProperty("keys")[0];
        Assert.Equal(keyId, pair.GetProperty("key_ID").GetString());
        Assert.Equal(issued.GetProperty("key").GetString(), pair.GetProperty("key").GetString());

        alice.Terminate();
        bob.Terminate();
        Assert.True(alice.Process.WaitForExit(TimeSpan.FromSeconds(60)), "Alice did not stop on SIGTERM");
        Assert.True(bob.Process.WaitForExit(TimeSpan.FromSeconds(60)), "Bob did not stop on SIGTERM");
        emulate.Terminate();
        Assert.True(emulate.Process.WaitForExit(TimeSpan.FromSeconds(60)), "the link bench did not stop on SIGTERM");
        Assert.Equal(0, emulate.Process.ExitCode);
    }

    private static string WaitAndRead(QkdProcess process, string fragment)
    {
        process.WaitFor(fragment, TimeSpan.FromSeconds(60));
        return process.Output;
    }

    /// <summary>An SAE's HTTPS client: its certificate from the deployment, trusting only the deployment's CA.</summary>
    private static HttpClient Client(string deployment, string sae, int port, X509Certificate2 ca)
    {
        var certificate = X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(deployment, sae + ".pfx"), null);
        var handler = new SocketsHttpHandler
        {
            SslOptions = new SslClientAuthenticationOptions
            {
                LocalCertificateSelectionCallback = (_, _, _, _, _) => certificate,
                RemoteCertificateValidationCallback = (_, server, _, errors) =>
                {
                    if (server is null || (errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0) return false;
                    using var chain = new X509Chain();
                    chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                    chain.ChainPolicy.CustomTrustStore.Add(ca);
                    chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                    using var leaf = X509CertificateLoader.LoadCertificate(server.GetRawCertData());
                    return chain.Build(leaf);
                },
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{port}/") };
    }
}
