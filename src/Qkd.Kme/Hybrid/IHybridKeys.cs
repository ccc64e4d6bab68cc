using Qkd.Kme.Pool;

namespace Qkd.Kme.Hybrid;

/// <summary>
/// Hybrid keys for ETSI GS QKD 014: a key handed out as combine(QKD key, ML-KEM shared secret) instead of the QKD key,
/// so it stays secret if either the QKD link or ML-KEM is broken. The master KME (enc_keys) encapsulates a fresh secret
/// to the slave KME's ML-KEM key (pinned at <c>qkd node init</c>), sends the ciphertext with the reservation over the
/// authenticated KME link, and hands out the combined keys; the slave KME keeps the ciphertext durably with the
/// reservation and, at dec_keys, decapsulates and hands out the same combined keys. An SAE asks with the Key request
/// extension <c>{"hybrid": "ml-kem-768"}</c> (<see cref="ExtensionName"/>, <see cref="Algorithm"/>).
/// </summary>
public interface IHybridKeys
{
    /// <summary>The Key request extension's name: "hybrid".</summary>
    const string ExtensionName = "hybrid";

    /// <summary>The extension's value this KME serves: "ml-kem-768".</summary>
    string Algorithm { get; }

    /// <summary>Master side: a fresh encapsulation to the peer KME's pinned key (dispose it to zeroise the secret).</summary>
    HybridEncapsulation Encapsulate();

    /// <summary>Master side: replaces each key's bytes, in place, by its hybrid key (the same length).</summary>
    void CombineAtMaster(IReadOnlyList<DeliveredKey> keys, HybridEncapsulation encapsulation, string masterSaeId, string slaveSaeId);

    /// <summary>Slave side: keeps the ciphertext of a reservation durably, before the reservation is recorded.</summary>
    ValueTask RememberAsync(IReadOnlyList<ReservedKey> keys, ReadOnlyMemory<byte> ciphertext);

    /// <summary>
    /// Slave side, dec_keys: replaces, in place, the bytes of every key reserved as hybrid by its hybrid key, and forgets
    /// their ciphertexts. Keys reserved plainly are left as they are.
    /// </summary>
    ValueTask CombineAtSlaveAsync(IReadOnlyList<DeliveredKey> keys, string masterSaeId, string slaveSaeId);
}

/// <summary>One ML-KEM encapsulation: the ciphertext for the peer, the shared secret kept here (zeroised by <see cref="Dispose"/>).</summary>
public sealed class HybridEncapsulation(byte[] ciphertext, byte[] secret) : IDisposable
{
    public byte[] Ciphertext { get; } = ciphertext;

    internal byte[] Secret { get; } = secret;

    public void Dispose() => System.Security.Cryptography.CryptographicOperations.ZeroMemory(Secret);
}
