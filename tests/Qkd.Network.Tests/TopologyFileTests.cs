using Qkd.Network.Topology;

namespace Qkd.Network.Tests;

public sealed class TopologyFileTests
{
    private const string Good = """
        { "name": "t", "nodes": [ { "id": "a", "saes": ["sa"] }, { "id": "b", "saes": ["sb"] } ],
          "links": [ { "id": "a-b", "a": "a", "b": "b", "distanceKm": 10 } ] }
        """;

    [Theory]
    [InlineData("backbone-branch.json", 5, 4)]
    [InlineData("metro-ring-port.json", 5, 5)]
    public void The_example_topologies_load(string file, int nodes, int links)
    {
        var t = TopologyFile.Load(Path.Combine(AppContext.BaseDirectory, "topologies", file));
        Assert.Equal(nodes, t.Nodes.Count);
        Assert.Equal(links, t.Links.Count);
        Assert.All(t.Links, l => Assert.True(l.TotalLossDb > 0));
    }

    [Fact]
    public void A_topology_survives_writing_and_reading()
    {
        var t = TopologyFile.Parse(Good);
        var again = TopologyFile.Parse(TopologyFile.Serialize(t));
        Assert.Equal(TopologyFile.Serialize(t), TopologyFile.Serialize(again));
        Assert.Equal("a", again.NodeOfSae("sa")!.Id);
        Assert.Equal(0.25, again.Links[0].Detector.Efficiency);
    }

    [Theory]
    [InlineData("\"distanceKm\": 10", "\"distanceKm\": -1", "links[0].distanceKm")]
    [InlineData("\"distanceKm\": 10", "\"distanceKm\": 10, \"detector\": { \"efficiency\": 1.5 }", "links[0].detector.efficiency")]
    [InlineData("\"b\": \"b\", \"distanceKm\"", "\"b\": \"z\", \"distanceKm\"", "links[0].b: unknown node 'z'")]
    [InlineData("\"b\": \"b\", \"distanceKm\"", "\"b\": \"a\", \"distanceKm\"", "links[0].b: a link from 'a' to itself")]
    [InlineData("\"saes\": [\"sb\"]", "\"saes\": [\"sa\"]", "nodes[1].saes[0]: 'sa' is already attached to node 'a'")]
    [InlineData("{ \"id\": \"b\"", "{ \"id\": \"a\"", "nodes[1].id: 'a' appears twice")]
    [InlineData("{ \"id\": \"b\"", "{ \"id\": \"b c\"", "nodes[1].id")]
    [InlineData("\"distanceKm\": 10", "\"distanceKm\": 10, \"lossDb\": 3", "lossDb")]
    [InlineData("\"name\": \"t\",", "\"name\": \"t\", \"keySizeBits\": 100,", "keySizeBits")]
    [InlineData("\"links\": [", "\"links\": [ { \"id\": \"a-b2\", \"a\": \"b\", \"b\": \"a\", \"distanceKm\": 1 },", "links[1]: a second link")]
    public void Bad_topologies_are_refused_in_one_line_naming_the_field(string from, string to, string expected)
    {
        string json = Good.Replace(from, to);
        Assert.NotEqual(Good, json);
        var e = Assert.Throws<TopologyException>(() => TopologyFile.Parse(json, "net.json"));
        Assert.Contains(expected, e.Message);
        Assert.StartsWith("net.json: ", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_node_no_link_reaches_is_refused()
    {
        string json = Good.Replace("{ \"id\": \"b\", \"saes\": [\"sb\"] }", "{ \"id\": \"b\", \"saes\": [\"sb\"] }, { \"id\": \"c\" }");
        Assert.Contains("nodes[2].id: 'c' is not connected", Assert.Throws<TopologyException>(() => TopologyFile.Parse(json)).Message);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        var e = Assert.Throws<TopologyException>(() => TopologyFile.Load("/nonexistent/net.json"));
        Assert.StartsWith("/nonexistent/net.json: ", e.Message);
    }
}
