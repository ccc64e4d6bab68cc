using Qkd.Core;
using Qkd.Core.Bits;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Core.Keys;

namespace Qkd.Distillation.Tests.Protocol;

/// <summary>Bob's detections without the emulator, for protocol tests that need many blocks quickly.</summary>
internal static class SyntheticBob
{
    /// <summary>
    /// Synthetic Bob at the gains of a 25 km link: click positions are drawn with geometric gaps at the largest gain
    /// and thinned to each pulse's intensity, so only clicks cost work.
    /// </summary>
    public static Detection[] Detections(SeededSymbolSource alice, long pulses, double qber, ulong seed)
    {
        var rng = new Xoshiro256StarStar(seed);
        double[] gain = [0.0242, 0.0075, 3e-6];
        double logMiss = Math.Log(1 - gain[0]);
        var list = new List<Detection>();
        for (long i = -1; ;)
        {
            i += 1 + (long)Math.Floor(Math.Log(1 - rng.NextDouble()) / logMiss);
            if (i >= pulses) break;
            var s = alice.SymbolAt(i);
            if (rng.NextDouble() * gain[0] >= gain[(int)s.Intensity]) continue;
            Basis bobBasis = rng.NextDouble() < 0.75 ? Basis.Z : Basis.X;
            byte bit = bobBasis == s.Basis
                ? (byte)(s.Bit ^ (rng.NextDouble() < (s.Intensity == Intensity.Vacuum ? 0.5 : qber) ? 1 : 0))
                : (byte)(rng.NextUInt64() & 1);
            list.Add(new Detection(i, bobBasis, bit));
        }
        return [.. list];
    }
}

/// <summary>Keeps each block's key bytes by block id.</summary>
internal sealed class MemoryKeySink : IKeySink
{
    public Dictionary<long, byte[]> Keys { get; } = [];
    public void Accept(long blockId, PackedBits key) { lock (Keys) Keys.Add(blockId, key.ToBytes()); }
}
