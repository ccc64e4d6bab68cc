using Qkd.Core.Bits;

namespace Qkd.Distillation.ErrorCorrection.Ldpc;

/// <summary>
/// Bob's side of LDPC reconciliation for one frame: decodes his bits against Alice's syndrome and, when that fails,
/// takes the bits a blind round reveals and decodes again. On success his frame is overwritten with the decoded key
/// bits. Holds raw key until <see cref="Zeroise"/>.
/// </summary>
public sealed class LdpcCorrector
{
    private const float KnownMagnitude = 60f;

    private readonly PackedBits _frame;
    private readonly byte[] _syndrome;
    private readonly float _channelLlr;
    private readonly List<(int Position, byte Value)> _revealed = [];

    /// <param name="bobFrame">Bob's key bits of the frame, corrected in place on success.</param>
    /// <param name="qberEstimate">The QBER the plan was made for: it sets the channel's log-likelihood ratio.</param>
    public LdpcCorrector(PackedBits bobFrame, LdpcFramePlan plan, double qberEstimate)
    {
        ArgumentNullException.ThrowIfNull(bobFrame);
        ArgumentNullException.ThrowIfNull(plan);
        if (bobFrame.Length != plan.KeyBits)
            throw new ArgumentException($"Bob's frame has {bobFrame.Length} bits, the plan carries {plan.KeyBits}.", nameof(bobFrame));
        if (!(qberEstimate > 0 && qberEstimate < 0.5)) throw new ArgumentOutOfRangeException(nameof(qberEstimate));
        _frame = bobFrame;
        Plan = plan;
        _syndrome = new byte[plan.Code.Checks];
        _channelLlr = (float)Math.Log((1 - qberEstimate) / qberEstimate);
    }

    public LdpcFramePlan Plan { get; }

    public bool Decoded { get; private set; }

    /// <summary>Decoding attempts so far (1 + blind rounds taken).</summary>
    public int Attempts { get; private set; }

    /// <summary>Layered iterations over all attempts.</summary>
    public long Iterations { get; private set; }

    public int Revealed => _revealed.Count;

    /// <summary>What this frame has disclosed: the syndrome less the punctured bits, plus every revealed bit.</summary>
    public long LeakedBits => Plan.SyndromeLeakBits + Revealed;

    /// <summary>Bits to ask for in the next blind round (0 when everything is revealed).</summary>
    public int NextRevealCount => Plan.NextRevealCount(Revealed);

    /// <summary>Takes Alice's syndrome (one bit per check).</summary>
    public void SetSyndrome(PackedBits syndrome)
    {
        ArgumentNullException.ThrowIfNull(syndrome);
        if (syndrome.Length != _syndrome.Length)
            throw new ArgumentException($"The syndrome has {syndrome.Length} bits, the code {_syndrome.Length} checks.", nameof(syndrome));
        var words = syndrome.Words;
        for (int i = 0; i < _syndrome.Length; i++) _syndrome[i] = (byte)((words[i >> 6] >> (i & 63)) & 1);
    }

    /// <summary>Takes the bits a blind round revealed: the next ones of the plan's reveal order.</summary>
    public void AddRevealed(PackedBits bits)
    {
        ArgumentNullException.ThrowIfNull(bits);
        if (bits.Length > Plan.RevealableBits - Revealed)
            throw new ArgumentException($"{bits.Length} revealed bits, only {Plan.RevealableBits - Revealed} remain.", nameof(bits));
        for (int i = 0; i < bits.Length; i++)
            _revealed.Add((Plan.RevealPosition(Revealed), (byte)bits.GetBit(i)));
    }

    /// <summary>
    /// One decoding attempt with <paramref name="decoder"/> (built for this plan's code). Returns whether the syndrome
    /// was met; if so Bob's frame now holds the decoded key bits.
    /// </summary>
    public bool TryDecode(LayeredDecoder decoder, int maxIterations)
    {
        ArgumentNullException.ThrowIfNull(decoder);
        if (decoder.Code != Plan.Code) throw new ArgumentException("The decoder is for another code.", nameof(decoder));
        if (Decoded) return true;
        Attempts++;
        var prior = decoder.Prior;
        var code = Plan.Code;
        // Shortened variables are 0 (known), punctured ones unknown; then the key bits through the channel.
        for (int i = 0; i < Plan.Punctured; i++) prior[code.PositionOrder[i]] = 0;
        for (int i = Plan.Punctured; i < Plan.Punctured + Plan.Shortened; i++) prior[code.PositionOrder[i]] = KnownMagnitude;
        var positions = Plan.KeyPositions;
        var words = _frame.Words;
        for (int i = 0; i < positions.Length; i++)
            prior[positions[i]] = ((words[i >> 6] >> (i & 63)) & 1) == 0 ? _channelLlr : -_channelLlr;
        foreach (var (position, value) in _revealed)
            prior[position] = value == 0 ? KnownMagnitude : -KnownMagnitude;

        int iterations = decoder.Decode(_syndrome, maxIterations);
        Iterations += iterations < 0 ? maxIterations : iterations;
        if (iterations < 0) return false;
        var hard = decoder.HardDecision;
        for (int i = 0; i < positions.Length; i++)
        {
            ulong mask = 1UL << (i & 63);
            if (hard[positions[i]] != 0) words[i >> 6] |= mask;
            else words[i >> 6] &= ~mask;
        }
        Decoded = true;
        return true;
    }

    /// <summary>Clears the revealed key bits and the syndrome (the frame itself belongs to the caller).</summary>
    public void Zeroise()
    {
        _revealed.Clear();
        Array.Clear(_syndrome);
    }
}
