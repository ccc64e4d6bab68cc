using Qkd.Status.Tests.Browser;

namespace Qkd.Status.Tests;

/// <summary>
/// The status page in a real headless Chromium, served by a real Kestrel listener from a board the test drives: it
/// loads and says "no data yet" before any block (no NaN, no "undefined"), shows the link producing key after blocks,
/// shows a raised security alarm (headline, alarm list) and its clearing, and logs no console error, warning or
/// uncaught exception throughout. Every wait is on a DOM condition with a generous give-up limit.
/// </summary>
public class StatusPageInBrowserTests
{
    private static readonly TimeSpan GiveUp = TimeSpan.FromSeconds(120);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact(Timeout = 600_000)]
    public async Task The_page_shows_live_values_and_a_raised_alarm_without_console_errors()
    {
        var alarms = new TestAlarmFeed();
        long available = 0;
        var board = new StatusBoard("port-link-7", "bob", alarms,
            pool: () => new KeyPoolSizes(Interlocked.Read(ref available), 3, 1_000_000, 256),
            devices: () => [new DeviceHealth("tagger", "time tagger", "connected", true, "firmware 1.4.0"),
                new DeviceHealth("detector", "single-photon detector", "connected", true)]);
        await using var server = await StatusTestServer.StartAsync(board, Ct);
        await using var browser = await HeadlessChromium.StartAsync(GiveUp, Ct);
        var page = await BrowserPage.OpenAsync(browser, Ct);

        await page.NavigateAsync(new Uri(server.BaseAddress, "status"), GiveUp, Ct);
        await page.WaitForAsync("document.getElementById('link-id').textContent === 'port-link-7'", GiveUp, Ct);
        await page.WaitForAsync("document.getElementById('headline').classList.contains('state-noData')", GiveUp, Ct);
        string before = (await page.EvaluateAsync("document.body.innerText", Ct)).GetString()!;
        Assert.Contains("No data yet", before);
        Assert.Contains("no data yet", before); // the tiles and charts, not zeros
        Assert.DoesNotContain("NaN", before);
        Assert.DoesNotContain("undefined", before);

        // Blocks arrive: the page updates without reload.
        board.RecordBlock(new BlockReport(1, true, null, 0.021, 0.025, 40_000, 0.031));
        Interlocked.Exchange(ref available, 156);
        board.RecordBlock(new BlockReport(2, true, null, double.NaN, 0.024, 38_000, double.NaN));
        await page.WaitForAsync("document.getElementById('headline-text').textContent === 'Link is producing key'", GiveUp, Ct);
        await page.WaitForAsync("document.getElementById('pool-value').textContent === '156'", GiveUp, Ct);
        await page.WaitForAsync("document.querySelectorAll('#chart-rate rect').length === 2", GiveUp, Ct);
        string producing = (await page.EvaluateAsync("document.body.innerText", Ct)).GetString()!;
        Assert.Contains("2.10", producing); // the last QBER in Z that was measured, in percent
        Assert.Contains("15.09", producing); // 3.1 % transmittance as loss in dB
        Assert.DoesNotContain("NaN", producing);

        // The monitor raises an alarm that threatens security: the headline turns to stopped and the alarm is listed.
        alarms.Raise(new StatusAlarm("qber_rise", true, DateTimeOffset.UtcNow, null, 3, "QBER rose to 9.8 % (CUSUM over threshold)", 0.098, 0.05));
        await page.WaitForAsync("document.querySelector('#alarms-active li.security[data-kind=\"qber_rise\"]') !== null", GiveUp, Ct);
        await page.WaitForAsync("document.getElementById('headline').classList.contains('state-stopped')", GiveUp, Ct);
        string alarmed = (await page.EvaluateAsync("document.body.innerText", Ct)).GetString()!;
        Assert.Contains("Key generation stopped by a security alarm", alarmed);
        Assert.Contains("QBER rose to 9.8 %", alarmed);
        Assert.Equal(1, (await page.EvaluateAsync("document.querySelectorAll('#alarm-timeline rect.alarm-security').length", Ct)).GetInt32());
        // QKD_STATUS_SCREENSHOT=/tmp/status.png keeps a picture of the page at this point, to look at while changing it.
        if (Environment.GetEnvironmentVariable("QKD_STATUS_SCREENSHOT") is { Length: > 0 } screenshot)
            await File.WriteAllBytesAsync(screenshot, await page.ScreenshotAsync(Ct), Ct);

        // It clears: producing again, the alarm stays in the history.
        alarms.Clear("qber_rise", DateTimeOffset.UtcNow);
        await page.WaitForAsync("document.querySelectorAll('#alarms-active li').length === 0", GiveUp, Ct);
        await page.WaitForAsync("document.getElementById('headline').classList.contains('state-producing')", GiveUp, Ct);
        Assert.Equal(1, (await page.EvaluateAsync("document.querySelectorAll('#alarm-history tbody tr').length", Ct)).GetInt32());

        Assert.True(page.Problems.Count == 0, "The page reported problems:\n" + string.Join("\n", page.Problems));
    }
}
