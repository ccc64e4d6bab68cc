using System.Net;
using System.Text.Json;

namespace Qkd.Status.Tests;

/// <summary>The endpoints over real HTTP: the page and its parts from the assembly, the document, what else is refused.</summary>
public class StatusEndpointTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 60_000)]
    public async Task The_page_its_parts_and_the_document_are_served_with_their_headers()
    {
        await using var server = await StatusTestServer.StartAsync(new StatusBoard("link-a", "bob"), Ct);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };

        foreach (var (path, type) in new[] { ("/status", "text/html"), ("/status/status.css", "text/css"), ("/status/status.js", "text/javascript"), ("/status.json", "application/json") })
        {
            using var response = await http.GetAsync(path, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(type, response.Content.Headers.ContentType!.MediaType);
            Assert.Equal("no-store", response.Headers.CacheControl!.ToString());
            Assert.Equal(StatusEndpoints.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
            Assert.False(response.Headers.Contains("Server"));
            Assert.True((await response.Content.ReadAsByteArrayAsync(Ct)).Length > 0);
        }

        string html = await http.GetStringAsync("/status", Ct);
        Assert.DoesNotContain("http://", html.Replace("http://www.w3.org", ""), StringComparison.Ordinal); // nothing fetched from elsewhere
        Assert.DoesNotContain("https://", html, StringComparison.Ordinal);
        using var document = JsonDocument.Parse(await http.GetStringAsync("/status.json", Ct));
        Assert.Equal("link-a", document.RootElement.GetProperty("linkId").GetString());
    }

    [Fact(Timeout = 60_000)]
    public async Task Only_get_is_answered()
    {
        await using var server = await StatusTestServer.StartAsync(new StatusBoard("link-a", "bob"), Ct);
        using var http = new HttpClient { BaseAddress = server.BaseAddress };
        using (var post = await http.PostAsync("/status.json", new StringContent("{}"), Ct))
            Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
        using (var delete = await http.DeleteAsync("/status", Ct))
            Assert.Equal(HttpStatusCode.MethodNotAllowed, delete.StatusCode);
        using (var other = await http.GetAsync("/status/other.js", Ct))
            Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
    }
}
