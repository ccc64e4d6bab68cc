using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Qkd.Kme.Delivery;
using Qkd.Kme.Pool;
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

    [Fact(Timeout = 900_000)]
    public async Task Nodes_on_the_link_bench_deliver_a_matching_pair_over_etsi_014()
    {
        if (!OperatingSystem.IsLinux()) Assert.Skip("The link bench uses Linux pseudo-terminals.");
        string bench = Path.Combine(_dir, "bench"), deployment = Path.Combine(_dir, "deployment");
        var emulate = Start("emulate", "--link-bench", bench);
        emulate.WaitFor("Link bench in", TimeSpan.FromSeconds(60));

        int basePort = Qkd.Cli.Tests.FreePorts.Block();
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
        // Seconds on a quiet machine; under a loaded suite the real-time emulated light and both nodes share two cores.
        bob.WaitFor(": Key, QBER", TimeSpan.FromSeconds(600));

        using var ca = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(deployment, "ca.pem"));
        using var masterCertificate = X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(deployment, NodeSetup.MasterSae + ".pfx"), null);
        using var slaveCertificate = X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(deployment, NodeSetup.SlaveSae + ".pfx"), null);
        using var master = new EtsiKeyDeliveryClient(new Uri($"https://127.0.0.1:{basePort + 3}"), masterCertificate, ca);
        using var slave = new EtsiKeyDeliveryClient(new Uri($"https://127.0.0.1:{basePort + 4}"), slaveCertificate, ca);
        // The key pool takes the block once both ends hold it and the KME link is up: ask until Alice's KME has a key.
        DeliveredKey? issued = null;
        for (int attempt = 0; issued is null && attempt < 120; attempt++)
        {
            try
            {
                issued = (await master.GetKeysAsync(NodeSetup.SlaveSae, 1, TestContext.Current.CancellationToken))[0];
            }
            catch (KeyDeliveryException) when (!alice.Process.HasExited)
            {
                await Task.Delay(1_000, TestContext.Current.CancellationToken);
            }
        }
        Assert.NotNull(issued);
        var redeemed = await slave.GetKeysWithIdsAsync(NodeSetup.MasterSae, [issued.Id], TestContext.Current.CancellationToken);
        Assert.Equal(issued.Id, Assert.Single(redeemed).Id);
        Assert.Equal(issued.Key, redeemed[0].Key);
        Assert.Equal(32, issued.Key.Length);

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
}
