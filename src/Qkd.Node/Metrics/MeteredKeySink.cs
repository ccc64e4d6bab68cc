using Qkd.Core.Bits;
using Qkd.Distillation;
using Qkd.Core.Keys;

namespace Qkd.Node.Metrics;

/// <summary>Counts the secret bits of every distilled block on its way to the next sink (per block, never per bit).</summary>
public sealed class MeteredKeySink(IKeySink next, NodeMetrics metrics) : IKeySink
{
    public void Accept(long blockId, PackedBits key)
    {
        long bits = key.Length;
        next.Accept(blockId, key);
        metrics.SecretBitsDistilled(bits);
    }
}
