using System.Net;
using Qkd.Node.Service;

namespace Qkd.Node.Tests.Service;

/// <summary>Endpoints in node configs: literal addresses or host names, the port always written; names resolve at start.</summary>
public class ConfiguredEndpointTests
{
    [Theory]
    [InlineData("127.0.0.1:7001", "127.0.0.1", 7001, false)]
    [InlineData("[::1]:7001", "::1", 7001, false)]
    [InlineData("localhost:7001", "localhost", 7001, true)]
    [InlineData("bob.example.net:0", "bob.example.net", 0, true)]
    [InlineData("node-2:65535", "node-2", 65535, true)]
    public void Parses_addresses_and_host_names(string text, string host, int port, bool isName)
    {
        var endpoint = ConfiguredEndpoint.TryParse(text);
        Assert.NotNull(endpoint);
        Assert.Equal(host, endpoint.Host);
        Assert.Equal(port, endpoint.Port);
        Assert.Equal(isName, endpoint.IsHostName);
        Assert.Equal(text, endpoint.ToString());
        Assert.Equal(isName ? typeof(DnsEndPoint) : typeof(IPEndPoint), endpoint.ForConnecting().GetType());
    }

    [Theory]
    [InlineData("")]
    [InlineData("localhost")]          // no port
    [InlineData("127.0.0.1")]
    [InlineData("localhost:")]
    [InlineData("localhost:65536")]
    [InlineData("localhost:+1")]
    [InlineData("::1:7001")]           // IPv6 needs brackets
    [InlineData("[localhost]:7001")]
    [InlineData("1:7001")]             // digits alone would read as 0.0.0.1
    [InlineData("10.0.1:7001")]
    [InlineData("-bob:7001")]
    [InlineData("bob..net:7001")]
    [InlineData("bob_1:7001")]
    [InlineData("http://bob:7001")]
    [InlineData(" bob:7001")]
    public void Refuses_anything_else(string text) => Assert.Null(ConfiguredEndpoint.TryParse(text));

    [Fact]
    public async Task Localhost_resolves_to_its_IPv4_address()
    {
        var resolved = await ConfiguredEndpoint.TryParse("localhost:7001")!.ResolveAsync("classicalChannel.endpoint", TestContext.Current.CancellationToken);
        Assert.Equal(new IPEndPoint(IPAddress.Loopback, 7001), resolved);
    }

    [Fact]
    public async Task A_name_that_does_not_resolve_is_a_network_error_naming_the_field_and_the_name()
    {
        var endpoint = ConfiguredEndpoint.TryParse("no-such-node.invalid:7001")!;
        var e = await Assert.ThrowsAsync<NodeStartupException>(() => endpoint.ResolveAsync("classicalChannel.kmeLinkEndpoint", TestContext.Current.CancellationToken));
        Assert.Equal(NodeStartupFailure.Network, e.Failure);
        Assert.StartsWith("classicalChannel.kmeLinkEndpoint \"no-such-node.invalid:7001\": the host name no-such-node.invalid does not resolve", e.Message);
    }

    [Fact]
    public void The_KME_link_has_its_own_field_and_configs_without_it_keep_the_old_port_plus_one()
    {
        var channel = new ClassicalChannelConfig("bob.example.net:7100", "pre-shared.secret");
        Assert.Equal("bob.example.net:7101", channel.KmeLink().ToString());
        Assert.Equal("bob.example.net:7200", (channel with { KmeLinkEndpoint = "bob.example.net:7200" }).KmeLink().ToString());
    }

    [Fact]
    public void Node_init_writes_every_port_a_node_listens_on()
    {
        string dir = Directory.CreateTempSubdirectory("qkd-init-ports").FullName;
        var (aliceConfig, bobConfig) = NodeSetup.Write(dir, basePort: 7100);
        foreach (string path in new[] { aliceConfig, bobConfig })
        {
            var config = NodeConfig.Load(path);
            Assert.Equal("127.0.0.1:7100", config.ClassicalChannel.Endpoint);
            Assert.Equal("127.0.0.1:7101", config.ClassicalChannel.KmeLinkEndpoint);
            Assert.Equal("127.0.0.1:7102", config.Emulator.Fibre);
        }
        Assert.Equal(7103, NodeConfig.Load(aliceConfig).KeyDelivery!.Port);
        Assert.Equal(7104, NodeConfig.Load(bobConfig).KeyDelivery!.Port);
    }
}
