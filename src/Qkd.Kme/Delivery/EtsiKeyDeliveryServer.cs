using System.Net;
using System.Net.Security;
using System.Security.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Qkd.Kme.Pool;

namespace Qkd.Kme.Delivery;

/// <summary>
/// One KME's ETSI GS QKD 014 key-delivery server: Kestrel, HTTPS only with forward-secret suites (TLS 1.3, or TLS 1.2
/// with ECDHE and an AEAD cipher: <see cref="ForwardSecretSuites"/>), HTTP/1.1 and HTTP/2, a client certificate
/// required on every connection. Usage: construct, <see cref="StartAsync"/>, read
/// <see cref="BaseAddress"/>, and <see cref="StopAsync"/> or dispose.
/// </summary>
/// <remarks>
/// The TLS handshake accepts any client certificate whose key the client proves it holds; whether the certificate is
/// trusted (chain to a configured CA only) and which SAE it names is decided per request by
/// <see cref="SaeAuthenticator"/>, so a stranger gets the ETSI 401 with a reason instead of a broken handshake.
/// No request is served before that decision.
/// </remarks>
public sealed class EtsiKeyDeliveryServer : IAsyncDisposable
{
    private readonly KeyDeliveryOptions _options;
    private readonly KeyDeliveryCertificates _certificates;
    private readonly bool _ownsCertificates;
    private readonly WebApplication _app;
    private readonly KeyDeliveryMetrics _metrics = new();
    private int _state; // 0 new, 1 started, 2 stopped

    /// <summary>Loads the certificates named by <paramref name="options"/>.</summary>
    /// <param name="audit">Told of every key handed out (IDs only) before the answer is written; null: no one.</param>
    public EtsiKeyDeliveryServer(KeyDeliveryOptions options, IKeyPool pool, IReservationNotifier notifier, ILoggerFactory? loggerFactory = null,
        IKeyDeliveryAudit? audit = null)
        : this(options, KeyDeliveryCertificates.Load(options), pool, notifier, loggerFactory, ownsCertificates: true, audit)
    {
    }

    /// <summary>With certificates already loaded (the caller keeps ownership of them).</summary>
    public EtsiKeyDeliveryServer(KeyDeliveryOptions options, KeyDeliveryCertificates certificates, IKeyPool pool,
        IReservationNotifier notifier, ILoggerFactory? loggerFactory = null, IKeyDeliveryAudit? audit = null)
        : this(options, certificates, pool, notifier, loggerFactory, ownsCertificates: false, audit)
    {
    }

    private EtsiKeyDeliveryServer(KeyDeliveryOptions options, KeyDeliveryCertificates certificates, IKeyPool pool,
        IReservationNotifier notifier, ILoggerFactory? loggerFactory, bool ownsCertificates, IKeyDeliveryAudit? audit)
        : this(options, certificates, metrics => new PoolKeyDeliverySource(options, pool ?? throw new ArgumentNullException(nameof(pool)),
            notifier ?? throw new ArgumentNullException(nameof(notifier)), (loggerFactory ?? NullLoggerFactory.Instance).CreateLogger("Qkd.Kme.Delivery"), metrics),
            loggerFactory, ownsCertificates, audit)
    {
    }

    /// <summary>
    /// Keys from another source than one link's pool: a trusted node of a network serves the same API, TLS and access
    /// rules over its relay (Qkd.Network's <c>RelayKeyDeliverySource</c>). Loads the certificates named by <paramref name="options"/>.
    /// </summary>
    public EtsiKeyDeliveryServer(KeyDeliveryOptions options, IKeyDeliverySource source, ILoggerFactory? loggerFactory = null, IKeyDeliveryAudit? audit = null)
        : this(options, KeyDeliveryCertificates.Load(options), _ => source ?? throw new ArgumentNullException(nameof(source)), loggerFactory, ownsCertificates: true, audit)
    {
    }

    private EtsiKeyDeliveryServer(KeyDeliveryOptions options, KeyDeliveryCertificates certificates, Func<KeyDeliveryMetrics, IKeyDeliverySource> source,
        ILoggerFactory? loggerFactory, bool ownsCertificates, IKeyDeliveryAudit? audit)
    {
        _options = options.Validate();
        _certificates = certificates;
        _ownsCertificates = ownsCertificates;
        loggerFactory ??= NullLoggerFactory.Instance;

        // The empty builder reads no appsettings, environment or command line: everything comes from the options.
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddSingleton(loggerFactory);
        builder.Services.AddLogging();
        builder.WebHost.UseKestrelCore();
        builder.WebHost.UseKestrelHttpsConfiguration();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes;
            kestrel.Listen(IPAddress.Parse(options.ListenAddress), options.Port, listen =>
            {
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificate = certificates.ServerCertificate,
                    // Where the TLS library lets us choose suites (OpenSSL: Linux, FreeBSD), TLS 1.2 keeps only ECDHE
                    // suites; elsewhere TLS 1.2 is off, since its defaults include RSA key exchange (no forward secrecy).
                    SslProtocols = ForwardSecretSuites is null ? SslProtocols.Tls13 : SslProtocols.Tls12 | SslProtocols.Tls13,
                    OnAuthenticate = (_, ssl) => ssl.CipherSuitesPolicy = ForwardSecretSuites,
                    ClientCertificateMode = ClientCertificateMode.RequireCertificate,
                    CheckCertificateRevocation = false,
                    // Trust is decided per request against the configured CAs only (see remarks), never system roots.
                    ClientCertificateValidation = (_, _, _) => true,
                });
            });
        });
        _app = builder.Build();

        var authenticator = new SaeAuthenticator(options, certificates.TrustedClientCas, certificates.Revocation);
        var lifetime = _app.Services.GetRequiredService<IHostApplicationLifetime>();
        var handler = new KeyDeliveryHandler(options, source(_metrics), authenticator,
            loggerFactory.CreateLogger("Qkd.Kme.Delivery"), lifetime.ApplicationStopping, audit);
        _app.Run(handler.HandleAsync);
    }

    /// <summary>
    /// The suites offered: TLS 1.3's (all forward secret) and TLS 1.2's ECDHE suites with AES-GCM or ChaCha20-Poly1305,
    /// for ECDSA and RSA server keys. Null on platforms whose TLS library takes no suite list (the server then offers
    /// TLS 1.3 only).
    /// </summary>
    public static CipherSuitesPolicy? ForwardSecretSuites { get; } = OperatingSystem.IsLinux() || OperatingSystem.IsFreeBSD()
        ? new CipherSuitesPolicy(
        [
            TlsCipherSuite.TLS_AES_256_GCM_SHA384,
            TlsCipherSuite.TLS_AES_128_GCM_SHA256,
            TlsCipherSuite.TLS_CHACHA20_POLY1305_SHA256,
            TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            TlsCipherSuite.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
            TlsCipherSuite.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            TlsCipherSuite.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        ])
        : null;

    /// <summary>https://address:port actually bound (the real port when <see cref="KeyDeliveryOptions.Port"/> is 0); set by <see cref="StartAsync"/>.</summary>
    public Uri BaseAddress { get; private set; } = new("https://unstarted.invalid/");

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 1, 0) != 0)
            throw new InvalidOperationException("The key-delivery server was already started; create a new one.");
        await _app.StartAsync(cancellationToken);
        var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var bound = new Uri(addresses.First());
        BaseAddress = new UriBuilder("https", _options.ListenAddress, bound.Port).Uri;
    }

    /// <summary>Stops accepting, lets requests in flight finish (up to the token), and closes connections.</summary>
    public async Task StopAsync(CancellationToken cancellationToken = default)
    {
        if (Interlocked.CompareExchange(ref _state, 2, 1) == 1)
            await _app.StopAsync(cancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        await _app.DisposeAsync();
        _metrics.Dispose();
        if (_ownsCertificates)
            _certificates.Dispose();
    }
}
