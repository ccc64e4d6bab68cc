using System.Security.Cryptography;
using Qkd.Core.Bits;
using Qkd.Distillation;
using Qkd.ClassicalChannel;
using Qkd.Core.Keys;

namespace Qkd.Node.Service;

/// <summary>
/// Splits every distilled block between the classical channel's authentication and the key pool: its first
/// <see cref="ReplenishBits"/> bits refill the one-time pad of the Wegman-Carter tags, the rest goes to the pool for
/// delivery. Both ends split alike, so their pads stay equal; those bits are never delivered.
/// </summary>
public sealed class ReplenishingKeySink(IKeySink pool, AuthenticationPadStore pad, int replenishBits) : IKeySink
{
    public int ReplenishBits { get; } = replenishBits % 8 == 0 && replenishBits >= 0
        ? replenishBits
        : throw new ArgumentOutOfRangeException(nameof(replenishBits), replenishBits, "Replenishment is a whole number of bytes.");

    /// <summary>Bits moved to the authentication pad so far.</summary>
    public long BitsReplenished { get; private set; }

    public void Accept(long blockId, PackedBits key)
    {
        long take = Math.Min(ReplenishBits, key.Length / 2); // never more than half a block
        take -= take % 8;
        if (take > 0)
        {
            byte[] pad1 = key.Slice(0, take).ToBytes();
            try
            {
                if (pad.Replenish(blockId, pad1)) BitsReplenished += take;
            }
            finally
            {
                CryptographicOperations.ZeroMemory(pad1);
            }
        }
        var rest = key.Slice(take, key.Length - take);
        try
        {
            pool.Accept(blockId, rest);
        }
        finally
        {
            rest.Clear();
        }
    }
}
