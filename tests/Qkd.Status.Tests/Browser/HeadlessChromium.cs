using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Qkd.Status.Tests.Browser;

/// <summary>
/// Debian's Chromium (package <c>chromium</c>), started headless with a fresh profile and the DevTools protocol on a
/// port it picks, for tests that load a page in a real browser. Absent Chromium is a test failure that says how to
/// install it, never a skip: CI installs it (.ci/run). Dispose kills the browser's process tree and deletes the profile.
/// </summary>
internal sealed partial class HeadlessChromium : IAsyncDisposable
{
    /// <summary>Where Chromium is looked for, after the QKD_CHROMIUM environment variable.</summary>
    public static readonly string[] Candidates = ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"];

    private readonly Process _process;
    private readonly string _profile;
    private readonly List<string> _stderr = [];

    private HeadlessChromium(Process process, string profile)
    {
        _process = process;
        _profile = profile;
    }

    /// <summary>The browser-wide DevTools connection.</summary>
    public CdpConnection Connection { get; private set; } = null!;

    /// <summary>Chromium's last lines on stderr, for a failure message.</summary>
    public string LastOutput
    {
        get
        {
            lock (_stderr) return string.Join("\n", _stderr.TakeLast(30));
        }
    }

    public static string FindExecutable()
    {
        string? configured = Environment.GetEnvironmentVariable("QKD_CHROMIUM");
        if (!string.IsNullOrEmpty(configured))
            return File.Exists(configured) ? configured : throw new FileNotFoundException($"QKD_CHROMIUM names {configured}, which does not exist.");
        return Candidates.FirstOrDefault(File.Exists) ?? throw new FileNotFoundException(
            $"Chromium is needed for the status page's browser test and was not found ({string.Join(", ", Candidates)}; or set QKD_CHROMIUM). " +
            "Install Debian's package as root: apt-get install -y chromium chromium-driver (.ci/run does this in CI).");
    }

    /// <summary>Starts Chromium and connects to it; gives up (naming Chromium's last output) after <paramref name="giveUp"/>.</summary>
    public static async Task<HeadlessChromium> StartAsync(TimeSpan giveUp, CancellationToken cancellationToken)
    {
        string executable = FindExecutable();
        string profile = Directory.CreateTempSubdirectory("qkd-chromium-").FullName;
        var start = new ProcessStartInfo(executable)
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (string flag in (string[])["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-default-apps",
                     "--disable-extensions", "--mute-audio", $"--user-data-dir={profile}", "--remote-debugging-address=127.0.0.1",
                     "--remote-debugging-port=0", "about:blank"])
            start.ArgumentList.Add(flag);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"{executable} did not start.");
        var browser = new HeadlessChromium(process, profile);
        var endpoint = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        process.ErrorDataReceived += (_, line) =>
        {
            if (line.Data is null) return;
            lock (browser._stderr) browser._stderr.Add(line.Data);
            if (DevToolsListening().Match(line.Data) is { Success: true } match) endpoint.TrySetResult(new Uri(match.Groups[1].Value));
        };
        process.OutputDataReceived += (_, _) => { };
        process.EnableRaisingEvents = true;
        process.Exited += (_, _) => endpoint.TrySetException(new InvalidOperationException(
            $"Chromium exited (code {process.ExitCode}) before DevTools listened:\n{browser.LastOutput}"));
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            Uri ws = await endpoint.Task.WaitAsync(giveUp, cancellationToken).ConfigureAwait(false);
            browser.Connection = await CdpConnection.ConnectAsync(ws, cancellationToken).ConfigureAwait(false);
            return browser;
        }
        catch (TimeoutException)
        {
            await browser.DisposeAsync().ConfigureAwait(false);
            throw new TimeoutException($"Chromium did not open DevTools within {giveUp.TotalSeconds} s:\n{browser.LastOutput}");
        }
        catch
        {
            await browser.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Connection is not null) await Connection.DisposeAsync().ConfigureAwait(false);
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _process.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // A crash dump still being written; the temp folder is cleaned later.
        }
    }

    [GeneratedRegex(@"DevTools listening on (ws://\S+)")]
    private static partial Regex DevToolsListening();
}
