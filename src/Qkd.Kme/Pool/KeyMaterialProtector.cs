using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Qkd.Kme.Pool;

/// <summary>
/// Encrypts key material at rest with AES-256-GCM: a fresh random 96-bit nonce per key and the key ID as associated
/// data, so a sealed key cannot be moved to another ID's row without failing authentication. Sealed layout:
/// nonce (12) | ciphertext | tag (16).
/// </summary>
/// <remarks>
/// The AES key is not the operator key itself but a subkey per block, HKDF-SHA256(operator key, store salt, block ID).
/// Random 96-bit nonces are safe for about 2^32 encryptions under one key; a long-running link can store more keys than
/// that, and a subkey per block keeps every AES key far below the bound. The store's random salt makes two stores
/// with the same operator key (the two ends on one test machine) use different subkeys.
/// </remarks>
public sealed class KeyMaterialProtector : IDisposable
{
    public const int NonceBytes = 12;
    public const int TagBytes = 16;
    public const int OverheadBytes = NonceBytes + TagBytes;
    public const int SaltBytes = 16;

    private const int CacheLimit = 8;
    private static readonly byte[] CheckLabel = "qkd-keystore/v1/operator-key-check"u8.ToArray();
    private static readonly byte[] BlockLabel = "qkd-keystore/v1/block"u8.ToArray();

    private readonly byte[] _operatorKey;
    private readonly byte[] _salt;
    private readonly Lock _gate = new();
    // Subkeys of the last few blocks: deliveries walk through blocks in order, so this avoids a derivation per key.
    private readonly Dictionary<long, AesGcm> _blockCiphers = [];
    private bool _disposed;

    public KeyMaterialProtector(OperatorKey operatorKey, ReadOnlySpan<byte> storeSalt)
    {
        ArgumentNullException.ThrowIfNull(operatorKey);
        if (storeSalt.Length != SaltBytes)
            throw new ArgumentException($"The store salt must be {SaltBytes} bytes; it has {storeSalt.Length}.", nameof(storeSalt));
        _operatorKey = operatorKey.Bytes.ToArray();
        _salt = storeSalt.ToArray();
    }

    public static int SealedLength(int plaintextLength) => plaintextLength + OverheadBytes;

    /// <summary>Encrypts <paramref name="plaintext"/> (key <paramref name="keyId"/> of block <paramref name="blockId"/>) into <paramref name="sealedKey"/>.</summary>
    public void Seal(Guid keyId, long blockId, ReadOnlySpan<byte> plaintext, Span<byte> sealedKey)
    {
        if (sealedKey.Length != SealedLength(plaintext.Length))
            throw new ArgumentException($"Sealed buffer must be {SealedLength(plaintext.Length)} bytes.", nameof(sealedKey));
        Span<byte> ad = stackalloc byte[16];
        keyId.TryWriteBytes(ad, bigEndian: true, out _);
        var nonce = sealedKey[..NonceBytes];
        RandomNumberGenerator.Fill(nonce);
        lock (_gate)
            CipherFor(blockId).Encrypt(nonce, plaintext, sealedKey[NonceBytes..^TagBytes], sealedKey[^TagBytes..], ad);
    }

    /// <summary>Decrypts a sealed key into <paramref name="plaintext"/>.</summary>
    /// <exception cref="CryptographicException">The sealed bytes were altered, moved from another key ID or block, or sealed under another operator key.</exception>
    public void Open(Guid keyId, long blockId, ReadOnlySpan<byte> sealedKey, Span<byte> plaintext)
    {
        if (sealedKey.Length != SealedLength(plaintext.Length))
            throw new CryptographicException($"Key {keyId}: sealed record is {sealedKey.Length} bytes, expected {SealedLength(plaintext.Length)}.");
        Span<byte> ad = stackalloc byte[16];
        keyId.TryWriteBytes(ad, bigEndian: true, out _);
        try
        {
            lock (_gate)
                CipherFor(blockId).Decrypt(sealedKey[..NonceBytes], sealedKey[NonceBytes..^TagBytes], sealedKey[^TagBytes..], plaintext, ad);
        }
        catch (AuthenticationTagMismatchException e)
        {
            CryptographicOperations.ZeroMemory(plaintext);
            throw new CryptographicException(
                $"Key {keyId} (block {blockId}) fails authentication at rest: the stored record was altered, moved to another ID, or sealed under another operator key.", e);
        }
    }

    /// <summary>A record sealed under the operator key, stored when the pool is created, so a wrong key is caught at startup.</summary>
    public byte[] CreateVerificationRecord()
    {
        var record = new byte[OverheadBytes + 32];
        RandomNumberGenerator.Fill(record.AsSpan(0, NonceBytes));
        using var aes = CheckCipher();
        Span<byte> zeros = stackalloc byte[32];
        zeros.Clear();
        aes.Encrypt(record.AsSpan(0, NonceBytes), zeros, record.AsSpan(NonceBytes, 32), record.AsSpan(NonceBytes + 32), CheckLabel);
        return record;
    }

    /// <summary>True when <paramref name="record"/> was made by <see cref="CreateVerificationRecord"/> with this operator key and salt.</summary>
    public bool Verifies(ReadOnlySpan<byte> record)
    {
        if (record.Length != OverheadBytes + 32) return false;
        using var aes = CheckCipher();
        Span<byte> plain = stackalloc byte[32];
        try
        {
            aes.Decrypt(record[..NonceBytes], record.Slice(NonceBytes, 32), record[(NonceBytes + 32)..], plain, CheckLabel);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var aes in _blockCiphers.Values) aes.Dispose();
            _blockCiphers.Clear();
            CryptographicOperations.ZeroMemory(_operatorKey);
        }
    }

    private AesGcm CheckCipher()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        Span<byte> key = stackalloc byte[32];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, _operatorKey, key, _salt, CheckLabel);
        try
        {
            return new AesGcm(key, TagBytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    private AesGcm CipherFor(long blockId)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_blockCiphers.TryGetValue(blockId, out var cached)) return cached;
        if (_blockCiphers.Count >= CacheLimit)
        {
            foreach (var aes in _blockCiphers.Values) aes.Dispose();
            _blockCiphers.Clear();
        }
        Span<byte> info = stackalloc byte[BlockLabel.Length + 8];
        BlockLabel.CopyTo(info);
        BinaryPrimitives.WriteInt64BigEndian(info[BlockLabel.Length..], blockId);
        Span<byte> key = stackalloc byte[32];
        HKDF.DeriveKey(HashAlgorithmName.SHA256, _operatorKey, key, _salt, info);
        try
        {
            var cipher = new AesGcm(key, TagBytes);
            _blockCiphers[blockId] = cipher;
            return cipher;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }
}
