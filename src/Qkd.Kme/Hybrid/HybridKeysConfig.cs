using Qkd.Pqc.Algorithms;

namespace Qkd.Kme.Hybrid;

/// <summary>
/// Node config section "hybrid": this KME's ML-KEM-768 private seed (64 raw bytes, mode 0600) and the peer KME's
/// encapsulation key (1184 raw bytes), both written by <c>qkd node init</c>, which pins each end's public key at the
/// other; and the SQLite file where, as slave, this KME keeps the ciphertexts of hybrid reservations. Paths are relative
/// to the config file.
/// </summary>
public sealed record HybridKeysConfig(string KemPrivateKeyFile, string PeerKemPublicKeyFile, string Store)
{
    /// <summary>Loads the keys and opens the store. Errors name the file and the field.</summary>
    public MlKemHybridKeys Open(Func<string, string> pathOf)
    {
        var kem = PostQuantum.MlKem768;
        byte[] seed = Read(pathOf(KemPrivateKeyFile), "hybrid.kemPrivateKeyFile", kem.PrivateSeedBytes, mustBePrivate: true);
        try
        {
            byte[] peer = Read(pathOf(PeerKemPublicKeyFile), "hybrid.peerKemPublicKeyFile", kem.EncapsulationKeyBytes, mustBePrivate: false);
            return new MlKemHybridKeys(seed, peer, new HybridCiphertextStore(pathOf(Store)), kem);
        }
        finally
        {
            System.Security.Cryptography.CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>Writes a new key pair: <paramref name="privatePath"/> (seed, 0600) and <paramref name="publicPath"/> (encapsulation key).</summary>
    public static void WriteNewKeyPair(string privatePath, string publicPath)
    {
        using var pair = PostQuantum.MlKem768.GenerateKeyPair();
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var file = new FileStream(privatePath, options)) file.Write(pair.PrivateSeed);
        File.WriteAllBytes(publicPath, pair.EncapsulationKey);
    }

    private static byte[] Read(string path, string field, int length, bool mustBePrivate)
    {
        try
        {
            if (mustBePrivate && !OperatingSystem.IsWindows()
                && (File.GetUnixFileMode(path) & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
                throw new InvalidDataException($"{field} {path} is readable or writable by group or others; chmod 600 it");
            byte[] bytes = File.ReadAllBytes(path);
            if (bytes.Length != length)
            {
                System.Security.Cryptography.CryptographicOperations.ZeroMemory(bytes);
                throw new InvalidDataException($"{field} {path} holds {bytes.Length} bytes, an ML-KEM-768 {(mustBePrivate ? "private seed" : "encapsulation key")} is {length}");
            }
            return bytes;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"{field} {path} cannot be read: {e.Message}", e);
        }
    }
}
