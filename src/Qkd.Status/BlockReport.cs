namespace Qkd.Status;

/// <summary>What the status page needs of one distilled block (the node maps its distiller's block result to this).</summary>
/// <param name="BlockId">The block's number in the session.</param>
/// <param name="ProducedKey">True when the block gave secret key.</param>
/// <param name="Reason">Why it gave none, in words an operator understands (null when it gave key).</param>
/// <param name="QberZ">Error rate in the key basis Z, as a fraction (NaN when error correction did not run).</param>
/// <param name="QberX">Error rate in the test basis X, as a fraction (NaN when no X bits were sifted).</param>
/// <param name="SecretBits">Secret key bits the block gave.</param>
/// <param name="Transmittance">Channel transmittance estimated from the block's gains (fibre, optics and detector
/// efficiency together, a fraction in (0, 1]); NaN when it could not be estimated.</param>
public sealed record BlockReport(long BlockId, bool ProducedKey, string? Reason, double QberZ, double QberX, long SecretBits, double Transmittance);
