using System.Net;
using Qkd.Node.Metrics;
using Qkd.Node.Service;

namespace Qkd.Node.Tests.Metrics;

public class MetricsConfigTests
{
    [Theory]
    [InlineData("127.0.0.1:9464", "127.0.0.1", 9464)]
    [InlineData("0.0.0.0:80", "0.0.0.0", 80)]
    [InlineData("127.0.0.1:0", "127.0.0.1", 0)]
    [InlineData("[::1]:9464", "::1", 9464)]
    [InlineData("[::]:65535", "::", 65535)]
    public void Accepts_a_literal_address_and_a_written_port(string listen, string address, int port)
    {
        var config = new MetricsConfig(listen);
        Assert.Empty(config.Problems());
        Assert.Equal(IPAddress.Parse(address), config.Endpoint.Address);
        Assert.Equal(port, config.Endpoint.Port);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("127.0.0.1")]            // no port: IPEndPoint.TryParse would take it as port 0
    [InlineData("127.0.0.1:")]
    [InlineData("127.0.0.1:65536")]
    [InlineData("127.0.0.1:-1")]
    [InlineData("127.0.0.1:+80")]
    [InlineData("127.0.0.1:9464 ")]
    [InlineData("::1")]
    [InlineData("::1:9464")]             // IPv6 without brackets is ambiguous
    [InlineData("[127.0.0.1]:9464")]
    [InlineData("1:9464")]               // IPAddress.TryParse reads "1" as 0.0.0.1
    [InlineData("http://127.0.0.1:9464")]
    public void Refuses_anything_else_naming_the_field_and_the_value(string listen)
    {
        string problem = Assert.Single(new MetricsConfig(listen).Problems());
        Assert.StartsWith($"metrics.listen \"{listen}\"", problem);
        Assert.Throws<FormatException>(() => new MetricsConfig(listen).Endpoint);
    }

    [Theory]
    [InlineData("localhost:9464", "localhost")]
    [InlineData("mgmt.example.net:9464", "mgmt.example.net")]
    public void Accepts_a_host_name_resolved_when_the_endpoint_starts(string listen, string host)
    {
        var config = new MetricsConfig(listen);
        Assert.Empty(config.Problems());
        Assert.True(config.Endpoint.IsHostName);
        Assert.Equal(host, config.Endpoint.Host);
    }

    [Fact]
    public void Node_config_has_no_endpoint_without_the_section_and_the_loopback_default_with_an_empty_one()
    {
        string dir = Directory.CreateTempSubdirectory("qkd-metrics-config").FullName;
        Assert.Null(NodeConfig.Load(Write(dir, "")).Metrics);
        Assert.Equal("127.0.0.1:9464", NodeConfig.Load(Write(dir, "\"metrics\": {},")).Metrics!.Endpoint.ToString());
        Assert.Equal("127.0.0.1:9999", NodeConfig.Load(Write(dir, "\"metrics\": { \"listen\": \"127.0.0.1:9999\" },")).Metrics!.Endpoint.ToString());
    }

    [Fact]
    public void Node_config_load_names_a_bad_listen_value_and_an_unknown_field()
    {
        string dir = Directory.CreateTempSubdirectory("qkd-metrics-config").FullName;
        var bad = Assert.Throws<InvalidDataException>(() => NodeConfig.Load(Write(dir, "\"metrics\": { \"listen\": \"127.0.0.1\" },")));
        Assert.Contains("metrics.listen \"127.0.0.1\" is not address:port", bad.Message);
        var unknown = Assert.Throws<InvalidDataException>(() => NodeConfig.Load(Write(dir, "\"metrics\": { \"listen\": \"127.0.0.1:9464\", \"port\": 1 },")));
        Assert.Contains("port", unknown.Message);
        var wrongType = Assert.Throws<InvalidDataException>(() => NodeConfig.Load(Write(dir, "\"metrics\": \"127.0.0.1:9464\",")));
        Assert.Contains("metrics", wrongType.Message);
    }

    private static string Write(string dir, string metricsSection)
    {
        string path = Path.Combine(dir, $"node-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, $$"""
            {
              "role": "bob",
              "linkId": "metrics-test",
              {{metricsSection}}
              "classicalChannel": { "endpoint": "127.0.0.1:7001", "preSharedSecretFile": "pre-shared.secret" },
              "keyPool": { "database": "keys.db", "operatorKeyFile": "operator.key" },
              "emulator": { "fibre": "127.0.0.1:7002" }
            }
            """);
        return path;
    }
}
