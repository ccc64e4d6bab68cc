using Qkd.Node.KeyStore;

namespace Qkd.Node.Tests.KeyDelivery;

/// <summary>The pool the key-delivery tests run against (one place to switch implementations).</summary>
public static class TestPools
{
    public static IKeyPool Factory(KmeRole role) => new InMemoryKeyPool(role, KmeLink.LinkId, KmeLink.KeySizeBits);
}
