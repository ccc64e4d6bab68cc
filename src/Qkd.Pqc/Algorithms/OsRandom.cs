using Org.BouncyCastle.Crypto.Prng;
using Org.BouncyCastle.Security;

namespace Qkd.Pqc.Algorithms;

/// <summary>
/// BouncyCastle's random source bound straight to the OS CSPRNG (<see cref="System.Security.Cryptography.RandomNumberGenerator"/>),
/// never to a seeded generator: key pairs, encapsulation messages and hedged signatures all draw from it.
/// </summary>
internal static class OsRandom
{
    public static SecureRandom Shared { get; } = new(new CryptoApiRandomGenerator());
}
