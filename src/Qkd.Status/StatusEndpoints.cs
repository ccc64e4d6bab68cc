using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Qkd.Status;

/// <summary>
/// Maps the operator's status page onto a node's HTTP listener (the metrics server's: same address, same access
/// rules). <c>GET /status</c> is the page, <c>GET /status/status.css</c> and <c>/status/status.js</c> its parts (embedded
/// in this assembly), <c>GET /status.json</c> the document it polls every second. Nothing else; other methods get 405.
/// Every response forbids caching and framing, and the page's content security policy allows requests to this
/// origin only (the page makes no other).
/// </summary>
public static class StatusEndpoints
{
    public const string PagePath = "/status";
    public const string DocumentPath = "/status.json";

    /// <summary>The page's content security policy: its own script, style and status document, nothing from elsewhere.</summary>
    public const string ContentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    private static readonly PageFile Html = PageFile.Load("status.html", "text/html; charset=utf-8");
    private static readonly PageFile Css = PageFile.Load("status.css", "text/css; charset=utf-8");
    private static readonly PageFile Script = PageFile.Load("status.js", "text/javascript; charset=utf-8");

    public static IEndpointRouteBuilder MapOperatorStatus(this IEndpointRouteBuilder endpoints, StatusBoard board)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        ArgumentNullException.ThrowIfNull(board);
        endpoints.MapGet(PagePath, Html.Serve);
        endpoints.MapGet(PagePath + "/status.css", Css.Serve);
        endpoints.MapGet(PagePath + "/status.js", Script.Serve);
        endpoints.MapGet(DocumentPath, context =>
        {
            SetHeaders(context.Response);
            return context.Response.WriteAsJsonAsync(board.Snapshot(), StatusJsonContext.Default.StatusDocument, cancellationToken: context.RequestAborted);
        });
        return endpoints;
    }

    private static void SetHeaders(HttpResponse response)
    {
        response.Headers.CacheControl = "no-store";
        response.Headers.XContentTypeOptions = "nosniff";
        response.Headers.XFrameOptions = "DENY";
        response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        response.Headers["Referrer-Policy"] = "no-referrer";
    }

    private sealed record PageFile(byte[] Bytes, string ContentType)
    {
        public static PageFile Load(string name, string contentType)
        {
            string resource = $"Qkd.Status.Page.{name}";
            using var stream = typeof(StatusEndpoints).Assembly.GetManifestResourceStream(resource)
                ?? throw new InvalidOperationException($"The status page's {name} is not embedded in {typeof(StatusEndpoints).Assembly.GetName().Name} (resource {resource}).");
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return new PageFile(copy.ToArray(), contentType);
        }

        public Task Serve(HttpContext context)
        {
            SetHeaders(context.Response);
            context.Response.ContentType = ContentType;
            context.Response.ContentLength = Bytes.Length;
            return context.Response.Body.WriteAsync(Bytes, context.RequestAborted).AsTask();
        }
    }
}
