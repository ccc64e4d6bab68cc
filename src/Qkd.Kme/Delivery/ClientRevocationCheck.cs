using System.Security.Cryptography.X509Certificates;

namespace Qkd.Kme.Delivery;

/// <summary>
/// Revocation of SAE client certificates against the CRLs the operator configured
/// (<see cref="KeyDeliveryOptions.ClientCrlPaths"/>): every certificate of a client's chain below the root whose issuer
/// has a configured list is refused when the list names it, or when the list is past its nextUpdate (fail closed: an
/// out-of-date list may miss a revocation). Certificates of issuers without a configured list are not checked.
/// </summary>
/// <remarks>
/// The files are read at start (a bad one stops the server, naming it) and read again when one of them changes on disk
/// (looked at no more often than every <see cref="RecheckInterval"/>), so a CA's new list takes effect without a
/// restart; a new list that does not verify is refused and the previous lists stay in force. <see cref="Version"/>
/// changes with every reload, so a connection authenticated earlier is checked again.
/// </remarks>
public sealed class ClientRevocationCheck
{
    public static readonly TimeSpan RecheckInterval = TimeSpan.FromSeconds(5);

    private readonly IReadOnlyList<string> _paths;
    private readonly X509Certificate2Collection _trustedCas;
    private readonly Lock _gate = new();
    private volatile IReadOnlyList<ClientCertificateRevocationList> _lists;
    private DateTime[] _writeTimes;
    private long _nextLook;
    private readonly long _recheckMilliseconds;

    /// <summary>Reads every list; throws naming the file when one is missing, unreadable or not signed by a trusted CA.</summary>
    public ClientRevocationCheck(IReadOnlyList<string> paths, X509Certificate2Collection trustedCas)
        : this(paths, trustedCas, RecheckInterval)
    {
    }

    /// <param name="recheckInterval">How often the files are looked at (tests: zero, every time).</param>
    internal ClientRevocationCheck(IReadOnlyList<string> paths, X509Certificate2Collection trustedCas, TimeSpan recheckInterval)
    {
        _recheckMilliseconds = (long)recheckInterval.TotalMilliseconds;
        _paths = paths;
        _trustedCas = trustedCas;
        _writeTimes = paths.Select(File.GetLastWriteTimeUtc).ToArray();
        _lists = paths.Select(p => ClientCertificateRevocationList.Load(p, trustedCas)).ToArray();
    }

    public IReadOnlyList<ClientCertificateRevocationList> Lists => _lists;

    /// <summary>Changes whenever the lists are read again (asking looks whether a file changed).</summary>
    public int Version
    {
        get
        {
            Current();
            return _version;
        }
    }

    private int _version;

    /// <summary>The last reload that failed (the previous lists stayed in force), for the log; null when none did.</summary>
    public string? LastReloadFailure { get; private set; }

    /// <summary>Null when no configured list refuses a certificate of <paramref name="chain"/>, else why (names no secret).</summary>
    public string? Problem(X509ChainElementCollection chain, DateTimeOffset now)
    {
        var lists = Current();
        for (int i = 0; i < chain.Count; i++)
        {
            var certificate = chain[i].Certificate;
            if (i == chain.Count - 1 && certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData)) break; // the root
            foreach (var list in lists)
            {
                if (!list.Covers(certificate)) continue;
                if (list.NextUpdate is { } next && next < now)
                    return $"the revocation list {Path.GetFileName(list.Path)} of '{list.Issuer.Name}' is out of date (next update was due {next:u})";
                if (list.Revokes(certificate))
                    return $"certificate {certificate.SerialNumber} ('{certificate.Subject}') is revoked by {Path.GetFileName(list.Path)}";
            }
        }
        return null;
    }

    private IReadOnlyList<ClientCertificateRevocationList> Current()
    {
        long tick = Environment.TickCount64;
        if (tick < Interlocked.Read(ref _nextLook)) return Lists;
        lock (_gate)
        {
            if (tick < _nextLook) return _lists;
            _nextLook = tick + _recheckMilliseconds;
            var times = _paths.Select(p => File.Exists(p) ? File.GetLastWriteTimeUtc(p) : DateTime.MinValue).ToArray();
            if (times.SequenceEqual(_writeTimes)) return _lists;
            try
            {
                _lists = _paths.Select(p => ClientCertificateRevocationList.Load(p, _trustedCas)).ToArray();
                LastReloadFailure = null;
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                LastReloadFailure = e.Message;
            }
            _writeTimes = times;
            _version++;
            return _lists;
        }
    }
}
