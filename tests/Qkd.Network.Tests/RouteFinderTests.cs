using Qkd.Network.Routing;

namespace Qkd.Network.Tests;

public sealed class RouteFinderTests
{
    /// <summary>Both directions of each link advertised with the same available key.</summary>
    private static NetworkView View(params (string A, string B, long Available)[] links)
    {
        var nodes = links.SelectMany(l => new[] { l.A, l.B }).Distinct();
        return new NetworkView(nodes.Select(n => new LinkStateAdvertisement(n, 1, 0,
            links.Where(l => l.A == n || l.B == n).Select(l => new AdvertisedLink(l.A == n ? l.B : l.A, true, l.Available, 0)).ToList())));
    }

    [Fact]
    public void The_fewest_hops_win_while_pools_are_deep()
    {
        var view = View(("a", "b", 1 << 20), ("b", "c", 1 << 20), ("a", "d", 1 << 20), ("d", "e", 1 << 20), ("e", "c", 1 << 20));
        Assert.Equal(["a", "b", "c"], RouteFinder.Find(view, "a", "c", 64));
    }

    [Fact]
    public void A_draining_hop_costs_more_until_a_longer_path_is_cheaper()
    {
        // a-b holds twice what the relay needs: cost 1 + 8/2 = 5, so a-b-c costs 6 and a-d-e-c costs about 3.
        var view = View(("a", "b", 128), ("b", "c", 1 << 20), ("a", "d", 1 << 20), ("d", "e", 1 << 20), ("e", "c", 1 << 20));
        Assert.Equal(["a", "d", "e", "c"], RouteFinder.Find(view, "a", "c", 64));
        Assert.True(RouteFinder.HopCost(128, 64) > RouteFinder.HopCost(1 << 20, 64));
    }

    [Fact]
    public void A_link_with_less_key_than_the_relay_needs_is_unusable()
    {
        var view = View(("a", "b", 63), ("b", "c", 1 << 20));
        Assert.Null(RouteFinder.Find(view, "a", "c", 64));
        Assert.Equal(["a", "b", "c"], RouteFinder.Find(view, "a", "c", 63));
    }

    [Fact]
    public void A_link_counts_only_when_both_ends_say_it_is_up()
    {
        var view = new NetworkView([
            new LinkStateAdvertisement("a", 1, 0, [new AdvertisedLink("b", true, 1000, 0)]),
            new LinkStateAdvertisement("b", 1, 0, [new AdvertisedLink("a", false, 1000, 0)]),
        ]);
        Assert.Null(RouteFinder.Find(view, "a", "b", 64));
    }

    [Fact]
    public void Avoided_nodes_are_not_entered()
    {
        var view = View(("a", "b", 1000), ("b", "c", 1000), ("a", "d", 1000), ("d", "c", 1000));
        Assert.Equal(["a", "d", "c"], RouteFinder.Find(view, "a", "c", 64, new HashSet<string> { "b" }));
    }

    [Fact]
    public void Newer_advertisements_replace_older_ones_and_old_ones_age_out()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider();
        var db = new LinkStateDatabase(time, TimeSpan.FromMinutes(10));
        Assert.True(db.Accept(new LinkStateAdvertisement("a", 5, 0, [])));
        Assert.False(db.Accept(new LinkStateAdvertisement("a", 5, 0, [])));
        Assert.False(db.Accept(new LinkStateAdvertisement("a", 4, 0, [])));
        Assert.True(db.Accept(new LinkStateAdvertisement("a", 6, 30, [])));
        time.Advance(TimeSpan.FromSeconds(100));
        Assert.Equal(130, db.Get("a")!.AgeSeconds);
        time.Advance(TimeSpan.FromMinutes(10));
        Assert.Null(db.Get("a"));
        Assert.True(db.Accept(new LinkStateAdvertisement("a", 1, 0, []))); // a restarted node's lower sequence counts once the old one aged out
    }

    [Fact]
    public void Advertisements_survive_encoding_and_bad_ones_are_refused()
    {
        var lsa = new LinkStateAdvertisement("a", 42, 7, [new AdvertisedLink("b", true, 1234, 5.5), new AdvertisedLink("c", false, 0, 0)]);
        var back = LinkStateAdvertisement.Decode(lsa.Encode());
        Assert.Equal(lsa.Origin, back.Origin);
        Assert.Equal(lsa.Sequence, back.Sequence);
        Assert.Equal(lsa.Links, back.Links);
        Assert.Throws<FormatException>(() => LinkStateAdvertisement.Decode(lsa.Encode()[..^1]));
    }
}
