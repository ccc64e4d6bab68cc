using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Qkd.Status.Tests.Browser;

/// <summary>
/// One tab of <see cref="HeadlessChromium"/>, attached before it loads anything so that every console message, log
/// entry and uncaught exception of the page is collected in <see cref="Problems"/>. Waits are on DOM conditions
/// (a MutationObserver in the page), never on the clock, with a give-up limit.
/// </summary>
internal sealed class BrowserPage
{
    private readonly CdpConnection _cdp;
    private readonly string _session;
    private readonly ConcurrentQueue<string> _problems = new();
    private readonly ConcurrentQueue<string> _console = new();
    private TaskCompletionSource _loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private BrowserPage(CdpConnection cdp, string session)
    {
        _cdp = cdp;
        _session = session;
        cdp.EventReceived += OnEvent;
    }

    /// <summary>Console errors and warnings, error log entries and uncaught exceptions, as text.</summary>
    public IReadOnlyCollection<string> Problems => _problems;

    /// <summary>Every console message, for a failure message.</summary>
    public IReadOnlyCollection<string> Console => _console;

    public static async Task<BrowserPage> OpenAsync(HeadlessChromium browser, CancellationToken cancellationToken)
    {
        var cdp = browser.Connection;
        var target = await cdp.SendAsync("Target.createTarget", new JsonObject { ["url"] = "about:blank" }, cancellationToken: cancellationToken);
        var attached = await cdp.SendAsync("Target.attachToTarget",
            new JsonObject { ["targetId"] = target.GetProperty("targetId").GetString(), ["flatten"] = true }, cancellationToken: cancellationToken);
        var page = new BrowserPage(cdp, attached.GetProperty("sessionId").GetString()!);
        foreach (string domain in (string[])["Runtime.enable", "Log.enable", "Page.enable"])
            await cdp.SendAsync(domain, sessionId: page._session, cancellationToken: cancellationToken);
        return page;
    }

    /// <summary>Navigates and waits for the load event.</summary>
    public async Task NavigateAsync(Uri url, TimeSpan giveUp, CancellationToken cancellationToken)
    {
        _loaded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var navigated = await _cdp.SendAsync("Page.navigate", new JsonObject { ["url"] = url.ToString() }, _session, cancellationToken);
        if (navigated.TryGetProperty("errorText", out var error))
            throw new InvalidOperationException($"Chromium could not load {url}: {error.GetString()}");
        await _loaded.Task.WaitAsync(giveUp, cancellationToken);
    }

    /// <summary>Evaluates <paramref name="expression"/> in the page and returns its value as JSON.</summary>
    public async Task<JsonElement> EvaluateAsync(string expression, CancellationToken cancellationToken)
    {
        var result = await _cdp.SendAsync("Runtime.evaluate",
            new JsonObject { ["expression"] = expression, ["returnByValue"] = true, ["awaitPromise"] = true }, _session, cancellationToken);
        if (result.TryGetProperty("exceptionDetails", out var exception))
            throw new InvalidOperationException($"The page threw evaluating {expression}: {exception.GetRawText()}");
        return result.GetProperty("result").TryGetProperty("value", out var value) ? value : default;
    }

    /// <summary>
    /// Waits until the JavaScript <paramref name="condition"/> is true in the page: checked now and after every DOM change,
    /// so the wait ends when the page draws it. Gives up after <paramref name="giveUp"/> with what the page shows.
    /// </summary>
    public async Task WaitForAsync(string condition, TimeSpan giveUp, CancellationToken cancellationToken)
    {
        string script = $$"""
            new Promise(resolve => {
              const test = () => { try { return !!({{condition}}); } catch (e) { return false; } };
              if (test()) { resolve(true); return; }
              const observer = new MutationObserver(() => { if (test()) { observer.disconnect(); resolve(true); } });
              observer.observe(document, { subtree: true, childList: true, characterData: true, attributes: true });
            })
            """;
        try
        {
            await EvaluateAsync(script, cancellationToken).WaitAsync(giveUp, cancellationToken);
        }
        catch (TimeoutException)
        {
            string shown = (await EvaluateAsync("document.body ? document.body.innerText : ''", cancellationToken)).GetString() ?? "";
            throw new TimeoutException($"After {giveUp.TotalSeconds} s the page still did not show {condition}. It shows:\n{shown}\nConsole:\n{string.Join("\n", _console)}");
        }
    }

    /// <summary>A PNG of the page as drawn now (for looking at the page while working on it).</summary>
    public async Task<byte[]> ScreenshotAsync(CancellationToken cancellationToken)
    {
        await _cdp.SendAsync("Emulation.setDeviceMetricsOverride",
            new JsonObject { ["width"] = 1280, ["height"] = 1500, ["deviceScaleFactor"] = 1, ["mobile"] = false }, _session, cancellationToken);
        var shot = await _cdp.SendAsync("Page.captureScreenshot", new JsonObject { ["format"] = "png", ["captureBeyondViewport"] = true }, _session, cancellationToken);
        return Convert.FromBase64String(shot.GetProperty("data").GetString()!);
    }

    private void OnEvent(CdpEvent e)
    {
        if (e.SessionId != _session) return;
        switch (e.Method)
        {
            case "Page.loadEventFired":
                _loaded.TrySetResult();
                break;
            case "Runtime.consoleAPICalled":
                string type = e.Params.GetProperty("type").GetString()!;
                string text = string.Join(" ", e.Params.GetProperty("args").EnumerateArray()
                    .Select(a => a.TryGetProperty("value", out var v) ? v.ToString() : a.TryGetProperty("description", out var d) ? d.GetString() : a.GetRawText()));
                _console.Enqueue($"console.{type}: {text}");
                if (type is "error" or "warning" or "assert") _problems.Enqueue($"console.{type}: {text}");
                break;
            case "Runtime.exceptionThrown":
                var details = e.Params.GetProperty("exceptionDetails");
                string description = details.TryGetProperty("exception", out var exception) && exception.TryGetProperty("description", out var d2)
                    ? d2.GetString()! : details.GetProperty("text").GetString()!;
                _problems.Enqueue($"uncaught exception: {description}");
                break;
            case "Log.entryAdded":
                var entry = e.Params.GetProperty("entry");
                string level = entry.GetProperty("level").GetString()!;
                string line = $"log {level} ({entry.GetProperty("source").GetString()}): {entry.GetProperty("text").GetString()}" +
                    (entry.TryGetProperty("url", out var url) ? $" at {url.GetString()}" : "");
                _console.Enqueue(line);
                if (level is "error" or "warning") _problems.Enqueue(line);
                break;
        }
    }
}
