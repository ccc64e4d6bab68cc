using System.Security.Cryptography;
using Qkd.Core.Bits;
using Qkd.Distillation;
using Qkd.ClassicalChannel;
using Qkd.Core.Keys;

namespace Qkd.Node.Service;

/// <summary>
/// Splits every distilled block between the classical channel's authentication and the key pool: its first bits (up to
/// <see cref="ReplenishBits"/>, never more than half the block, cut to a hash key and whole pad groups:
/// <see cref="AuthenticationPadStore.ReplenishmentBytes"/>) become the block's pending replenishment, the rest goes to
/// the pool for delivery. Both ends split alike; the pad store applies a replenishment only once a handshake shows both
/// ends hold it, so the pads stay equal even when a session breaks between the two ends storing the block. Those bits
/// are never delivered.
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
        long take = 8L * AuthenticationPadStore.ReplenishmentBytes((int)(Math.Min(ReplenishBits, key.Length / 2) / 8)); // never more than half a block
        if (take > 0)
        {
            byte[] pad1 = key.Slice(0, take).ToBytes();
            try
            {
                if (pad.AddPending(blockId, pad1)) BitsReplenished += take;
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
