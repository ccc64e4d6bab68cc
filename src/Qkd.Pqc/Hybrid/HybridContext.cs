namespace Qkd.Pqc.Hybrid;

/// <summary>
/// What a hybrid key is bound to, beside its two secrets: the key's ID, the SAE (or gateway and vehicle) it is shared
/// between, the KEM ciphertext that carried the post-quantum secret, and the algorithm names. Two keys derived under
/// contexts that differ in any field are unrelated, so a key can never be replayed under another ID, for another
/// pair of parties, or with a ciphertext swapped in transit.
/// </summary>
/// <param name="Purpose">Domain separation between uses of the combiner ("etsi-014", "vehicle-session").</param>
/// <param name="KeyId">The QKD key's ID (ETSI key_ID, or the vehicle seed's ID).</param>
/// <param name="MasterId">The master SAE (ETSI) or the gateway.</param>
/// <param name="SlaveId">The slave SAE (ETSI) or the vehicle.</param>
/// <param name="KemCiphertext">The ML-KEM ciphertext exactly as sent.</param>
/// <param name="KemAlgorithm">The KEM's name ("ML-KEM-768").</param>
/// <param name="Transcript">Anything else both ends saw and must agree on (the vehicle handshake's hash); empty when none.</param>
public readonly record struct HybridContext(
    string Purpose,
    Guid KeyId,
    string MasterId,
    string SlaveId,
    ReadOnlyMemory<byte> KemCiphertext,
    string KemAlgorithm = "ML-KEM-768",
    ReadOnlyMemory<byte> Transcript = default);
