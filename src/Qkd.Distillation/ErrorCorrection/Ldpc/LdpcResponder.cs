using Qkd.Core.Bits;
using Qkd.Core.Random;

namespace Qkd.Distillation.ErrorCorrection.Ldpc;

/// <summary>
/// Alice's side of LDPC reconciliation for one frame: her codeword (key bits, fresh secret bits on the punctured
/// variables, zeros on the shortened ones), its syndrome, and the bits blind rounds reveal, every one counted in
/// <see cref="LeakedBits"/>. The codeword is raw key: <see cref="Zeroise"/> clears it once the block is done.
/// </summary>
public sealed class LdpcResponder
{
    private readonly byte[] _codeword;
    private bool _zeroised;

    /// <param name="aliceFrame">Alice's key bits of the frame (read, not kept).</param>
    /// <param name="random">Alice's secret random source: the punctured bits must be unknown to everyone else.</param>
    public LdpcResponder(PackedBits aliceFrame, LdpcFramePlan plan, IRandomSource random)
    {
        ArgumentNullException.ThrowIfNull(aliceFrame);
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(random);
        if (aliceFrame.Length != plan.KeyBits)
            throw new ArgumentException($"Alice's frame has {aliceFrame.Length} bits, the plan carries {plan.KeyBits}.", nameof(aliceFrame));
        Plan = plan;
        var code = plan.Code;
        _codeword = new byte[code.Length];
        var positions = plan.KeyPositions;
        for (int i = 0; i < positions.Length; i++) _codeword[positions[i]] = (byte)aliceFrame.GetBit(i);
        ulong pool = 0;
        for (int i = 0; i < plan.Punctured; i++)
        {
            if ((i & 63) == 0) pool = random.NextUInt64();
            _codeword[code.PositionOrder[i]] = (byte)((pool >> (i & 63)) & 1);
        }
        var syndrome = new byte[code.Checks];
        code.Syndrome(_codeword, syndrome);
        Syndrome = PackBytes(syndrome);
    }

    public LdpcFramePlan Plan { get; }

    /// <summary>H x of Alice's codeword, one bit per check: the message Bob decodes against.</summary>
    public PackedBits Syndrome { get; }

    /// <summary>Bits revealed by blind rounds so far.</summary>
    public int Revealed { get; private set; }

    /// <summary>What this frame has disclosed: the syndrome less the punctured bits, plus every revealed bit.</summary>
    public long LeakedBits => Plan.SyndromeLeakBits + Revealed;

    /// <summary>Checks that <paramref name="count"/> more bits can be revealed, without revealing them.</summary>
    /// <exception cref="ArgumentException">Zero, or more than remain.</exception>
    public void CheckReveal(int count)
    {
        if (count < 1 || count > Plan.RevealableBits - Revealed)
            throw new ArgumentException($"{count} bits asked; {Plan.RevealableBits - Revealed} remain to reveal (at least 1 per request).");
    }

    /// <summary>The next <paramref name="count"/> bits of the reveal order (<see cref="LdpcFramePlan.RevealPosition"/>).</summary>
    public PackedBits Reveal(int count)
    {
        CheckReveal(count);
        if (_zeroised) throw new InvalidOperationException("This frame was zeroised; its block is done.");
        var bits = new PackedBits(count);
        for (int i = 0; i < count; i++)
            if (_codeword[Plan.RevealPosition(Revealed + i)] != 0) bits.Set(i, true);
        Revealed += count;
        return bits;
    }

    public void Zeroise()
    {
        Array.Clear(_codeword);
        _zeroised = true;
    }

    internal static PackedBits PackBytes(ReadOnlySpan<byte> values)
    {
        var bits = new PackedBits(values.Length);
        var words = bits.Words;
        for (int i = 0; i < values.Length; i++)
            words[i >> 6] |= (ulong)values[i] << (i & 63);
        return bits;
    }
}
