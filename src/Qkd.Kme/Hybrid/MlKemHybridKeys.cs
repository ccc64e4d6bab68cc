using System.Security.Cryptography;
using Qkd.Kme.Pool;
using Qkd.Pqc.Algorithms;
using Qkd.Pqc.Hybrid;

namespace Qkd.Kme.Hybrid;

/// <summary>
/// Hybrid ETSI keys with ML-KEM-768 and the hybrid combiner (HKDF-SHA384, context: purpose "etsi-014", key_ID, master
/// SAE, slave SAE, the ML-KEM ciphertext, algorithm names). One encapsulation per enc_keys request; each key of the
/// request is combined under its own key_ID.
/// </summary>
public sealed class MlKemHybridKeys : IHybridKeys, IDisposable
{
    public const string Purpose = "etsi-014";
    private readonly IKeyEncapsulation _kem;
    private readonly byte[] _ownSeed;
    private readonly byte[] _peerEncapsulationKey;
    private readonly HybridCiphertextStore _store;

    /// <param name="ownPrivateSeed">This KME's ML-KEM-768 private seed (copied; the copy is zeroised on dispose).</param>
    /// <param name="peerEncapsulationKey">The peer KME's ML-KEM-768 encapsulation key, pinned at node init.</param>
    /// <param name="store">Where this KME, as slave, keeps the ciphertexts of hybrid reservations (owned from now on).</param>
    public MlKemHybridKeys(ReadOnlySpan<byte> ownPrivateSeed, byte[] peerEncapsulationKey, HybridCiphertextStore store, IKeyEncapsulation? kem = null)
    {
        _kem = kem ?? PostQuantum.MlKem768;
        if (peerEncapsulationKey.Length != _kem.EncapsulationKeyBytes)
            throw new ArgumentException($"the peer KME's ML-KEM-768 key is {peerEncapsulationKey.Length} bytes, expected {_kem.EncapsulationKeyBytes}", nameof(peerEncapsulationKey));
        if (ownPrivateSeed.Length != _kem.PrivateSeedBytes)
            throw new ArgumentException($"this KME's ML-KEM-768 private seed is {ownPrivateSeed.Length} bytes, expected {_kem.PrivateSeedBytes}", nameof(ownPrivateSeed));
        _ownSeed = ownPrivateSeed.ToArray();
        _peerEncapsulationKey = peerEncapsulationKey;
        _store = store;
    }

    public string Algorithm => "ml-kem-768";

    public HybridEncapsulation Encapsulate()
    {
        byte[] ciphertext = new byte[_kem.CiphertextBytes], secret = new byte[_kem.SharedSecretBytes];
        _kem.Encapsulate(_peerEncapsulationKey, ciphertext, secret);
        return new HybridEncapsulation(ciphertext, secret);
    }

    public void CombineAtMaster(IReadOnlyList<DeliveredKey> keys, HybridEncapsulation encapsulation, string masterSaeId, string slaveSaeId)
    {
        foreach (var key in keys) Combine(key, encapsulation.Secret, encapsulation.Ciphertext, masterSaeId, slaveSaeId);
    }

    public ValueTask RememberAsync(IReadOnlyList<ReservedKey> keys, ReadOnlyMemory<byte> ciphertext)
    {
        if (ciphertext.Length != _kem.CiphertextBytes)
            throw new ArgumentException($"a hybrid reservation's ciphertext is {ciphertext.Length} bytes, ML-KEM-768's are {_kem.CiphertextBytes}");
        _store.Remember(keys.Select(k => k.Id), ciphertext);
        return ValueTask.CompletedTask;
    }

    public ValueTask CombineAtSlaveAsync(IReadOnlyList<DeliveredKey> keys, string masterSaeId, string slaveSaeId)
    {
        byte[] secret = new byte[_kem.SharedSecretBytes];
        byte[]? lastCiphertext = null;
        var hybrid = new List<Guid>();
        try
        {
            foreach (var key in keys)
            {
                byte[]? ciphertext = _store.Find(key.Id);
                if (ciphertext is null) continue;
                // The keys of one enc_keys share one ciphertext: decapsulate once per ciphertext.
                if (lastCiphertext is null || !ciphertext.AsSpan().SequenceEqual(lastCiphertext))
                {
                    _kem.Decapsulate(_ownSeed, ciphertext, secret);
                    lastCiphertext = ciphertext;
                }
                Combine(key, secret, ciphertext, masterSaeId, slaveSaeId);
                hybrid.Add(key.Id);
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
        if (hybrid.Count > 0) _store.Forget(hybrid);
        return ValueTask.CompletedTask;
    }

    private static void Combine(DeliveredKey key, ReadOnlySpan<byte> secret, byte[] ciphertext, string masterSaeId, string slaveSaeId)
    {
        Span<byte> combined = stackalloc byte[key.Key.Length];
        HybridKeyCombiner.Default.Combine(key.Key, secret, new HybridContext(Purpose, key.Id, masterSaeId, slaveSaeId, ciphertext), combined);
        combined.CopyTo(key.Key);
        CryptographicOperations.ZeroMemory(combined);
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_ownSeed);
        _store.Dispose();
    }
}
