namespace Qkd.ClassicalChannel;

/// <summary>What comparing the peer's <see cref="PadPosition"/> with this end's pad found.</summary>
/// <param name="Verdict">Whether the two states agree, and if not, whose is older.</param>
/// <param name="Explanation">For a disagreement: one sentence naming the indices or blocks (no key material).</param>
/// <param name="Applied">Replenishments this comparison applied (blocks both ends hold).</param>
internal readonly record struct PadAgreement(PadAgreementVerdict Verdict, string? Explanation, int Applied)
{
    public static PadAgreement Agreed(int applied) => new(PadAgreementVerdict.Agreed, null, applied);
}

internal enum PadAgreementVerdict
{
    /// <summary>Neither state is behind the other.</summary>
    Agreed,
    /// <summary>The peer has seen or applied what this end's state does not know: this end's state was deleted or restored.</summary>
    ThisEndOlder,
    /// <summary>This end has seen or applied what the peer's state does not know: the peer's state was deleted or restored.</summary>
    PeerOlder,
}
