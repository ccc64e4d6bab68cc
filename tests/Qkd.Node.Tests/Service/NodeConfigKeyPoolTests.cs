using Qkd.Node.Service;

namespace Qkd.Node.Tests.Service;

/// <summary>
/// The key pool section of a node config: "keyPool" now, "keyStore" in configs written before the rename (still read,
/// so an upgrade never strands a deployment), never both, never neither.
/// </summary>
public sealed class NodeConfigKeyPoolTests
{
    private const string Pool = """{ "database": "keys.db", "operatorKeyFile": "operator.key", "keySizeBits": 512 }""";

    [Fact]
    public void The_key_pool_section_is_read()
    {
        var config = NodeConfig.Load(Write($"\"keyPool\": {Pool},"));
        Assert.Equal("keys.db", config.KeyPool.Database);
        Assert.Equal(512, config.KeyPool.KeySizeBits);
    }

    [Fact]
    public void A_config_written_before_the_rename_still_loads()
    {
        var config = NodeConfig.Load(Write($"\"keyStore\": {Pool},"));
        Assert.Equal("keys.db", config.KeyPool.Database);
        Assert.Equal("operator.key", config.KeyPool.OperatorKeyFile);
        Assert.Equal(512, config.KeyPool.KeySizeBits);
    }

    [Fact]
    public void Both_names_at_once_is_an_error_naming_them()
    {
        var e = Assert.Throws<InvalidDataException>(() => NodeConfig.Load(Write($"\"keyPool\": {Pool}, \"keyStore\": {Pool},")));
        Assert.Contains("keyPool and keyStore (its former name) are both given", e.Message);
    }

    [Fact]
    public void A_missing_key_pool_is_an_error_naming_it()
    {
        string path = Write("");
        var e = Assert.Throws<InvalidDataException>(() => NodeConfig.Load(path));
        Assert.Contains("keyPool is required", e.Message);
        Assert.Contains(path, e.Message);
    }

    [Fact]
    public void A_bad_key_pool_value_is_named_under_the_new_name()
    {
        var e = Assert.Throws<InvalidDataException>(() => NodeConfig.Load(Write("""
            "keyPool": { "database": "keys.db", "operatorKeyFile": "operator.key", "keySizeBits": 100 },
            """)));
        Assert.Contains("keyPool.keySizeBits 100 must be a multiple of 8 in 64..8192", e.Message);
    }

    private static string Write(string keyPoolSection)
    {
        string dir = Directory.CreateTempSubdirectory("qkd-node-config").FullName;
        string path = Path.Combine(dir, "node.json");
        File.WriteAllText(path, $$"""
            {
              "role": "bob",
              "linkId": "config-test",
              {{keyPoolSection}}
              "classicalChannel": { "endpoint": "127.0.0.1:7001", "preSharedSecretFile": "pre-shared.secret" },
              "emulator": { "fibre": "127.0.0.1:7002" }
            }
            """);
        return path;
    }
}
