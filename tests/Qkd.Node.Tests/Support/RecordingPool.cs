using Qkd.Core.Bits;
using Qkd.Core.Keys;

namespace Qkd.Node.Tests.Support;

/// <summary>A key sink that keeps every block's key, so a test can compare what both ends distilled.</summary>
public sealed class RecordingPool : IKeySink
{
    public readonly SortedDictionary<long, byte[]> Blocks = new();

    public void Accept(long blockId, PackedBits key)
    {
        lock (Blocks) Blocks.Add(blockId, key.ToBytes());
    }
}
