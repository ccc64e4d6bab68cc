using System.Globalization;
using Qkd.Monitoring;

namespace Qkd.Monitoring.Tests;

/// <summary>
/// The false-alarm rate over long clean runs of the default 25 km link (synthesised blocks, seeded), stated in the
/// README. Figures are written to the test output: after `dotnet build tests/Qkd.Monitoring.Tests`, run
/// `tests/Qkd.Monitoring.Tests/bin/Debug/net10.0/Qkd.Monitoring.Tests -class "*FalseAlarmRateTests*" -showLiveOutput`.
/// </summary>
public sealed class FalseAlarmRateTests
{
    private const int Blocks = 100_000;

    [Fact]
    public void Clean_run_with_per_block_noise_at_the_configured_floors_raises_no_alarm_in_100000_blocks()
    {
        // The worst clean link the defaults are meant for: transmittance and misalignment wander block to block by as
        // much as the floors (0.05 dB, 0.002) on top of counting, so z is about N(0, 1) on loss and QBER.
        var link = new SyntheticLink(11) { LossNoiseDb = 0.05, QberNoise = 0.002 };
        var monitor = new LinkMonitor();
        int alarms = 0;
        for (long b = 0; b < Blocks; b++) alarms += monitor.Observe(link.Block(b)).Raised.Count;
        Write($"defaults (k 0.5, h 12), noise at the floors: {alarms} alarms in {Blocks} blocks " +
              $"(Siegmund: one-sided ARL {Cusum.InControlRunLength(0.5, 12):E2} blocks)");
        Assert.True(alarms <= 1, $"{alarms} false alarms in {Blocks} blocks");
    }

    [Fact]
    public void Clean_run_with_counting_noise_only_raises_no_alarm_in_100000_blocks()
    {
        var link = new SyntheticLink(12);
        var monitor = new LinkMonitor();
        int alarms = 0;
        for (long b = 0; b < Blocks; b++) alarms += monitor.Observe(link.Block(b)).Raised.Count;
        Write($"defaults, counting noise only (as the emulator): {alarms} alarms in {Blocks} blocks");
        Assert.Equal(0, alarms);
    }

    [Fact]
    public void At_h_5_the_measured_false_alarm_rate_agrees_with_Siegmunds_run_length_within_a_factor_of_two()
    {
        // A low decision interval makes false alarms frequent enough to count: four watched sides have noise at the floor
        // (loss up and down, QBER Z and X up); the others see counting noise far below their floors.
        var link = new SyntheticLink(13) { LossNoiseDb = 0.05, QberNoise = 0.002 };
        var monitor = new LinkMonitor(new MonitorOptions { Decision = 5 });
        int alarms = 0;
        for (long b = 0; b < Blocks; b++) alarms += monitor.Observe(link.Block(b)).Raised.Count;
        double expected = 4 * Blocks / Cusum.InControlRunLength(0.5, 5);
        Write($"h 5: {alarms} alarms in {Blocks} blocks; Siegmund's ARL predicts {expected:F0} (4 sides at the floor)");
        Assert.InRange(alarms, expected / 2, expected * 2);
    }

    private static void Write(string line) =>
        TestContext.Current.TestOutputHelper?.WriteLine(line.ToString(CultureInfo.InvariantCulture));
}
