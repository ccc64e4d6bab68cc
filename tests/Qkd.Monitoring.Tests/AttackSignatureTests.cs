using Qkd.Monitoring;

namespace Qkd.Monitoring.Tests;

/// <summary>The signatures of attacks on the default 25 km link, each raising its alarm (and holding key) within a few blocks.</summary>
public sealed class AttackSignatureTests
{
    private const long Onset = 20;

    [Fact]
    public void A_QBER_rise_of_one_percent_raises_a_security_alarm_within_4_blocks()
    {
        // Intercept-resend of 4 % of the pulses adds about 1 % QBER (a quarter of the intercepted).
        var link = new SyntheticLink(21) { MisalignmentAt = b => b >= Onset ? 0.02 : 0.01, QberNoise = 0.001 };
        var monitor = new LinkMonitor();
        var steps = Scenario.Run(link, monitor, Onset + 6);
        long? raised = Scenario.FirstRaised(steps, AlarmKind.QberRise);
        Assert.NotNull(raised);
        Assert.InRange(raised!.Value, Onset, Onset + 3);
        var alarm = monitor.Board.Current.First(a => a.Kind == AlarmKind.QberRise);
        Assert.True(alarm.ThreatensSecurity);
        Assert.StartsWith("qber.", alarm.Statistic);
        Assert.True(monitor.Board.HoldsKey);
    }

    [Fact]
    public void A_QBER_alarm_clears_after_3_calm_blocks_once_the_QBER_returns_and_key_resumes()
    {
        var link = new SyntheticLink(22) { MisalignmentAt = b => b is >= Onset and < Onset + 8 ? 0.04 : 0.01 };
        var monitor = new LinkMonitor();
        var steps = Scenario.Run(link, monitor, Onset + 20);
        var raised = Scenario.AllRaised(steps).Where(a => a.Kind == AlarmKind.QberRise).ToList();
        Assert.NotEmpty(raised);
        var cleared = steps.SelectMany(s => s.Cleared).Where(a => a.Kind == AlarmKind.QberRise).ToList();
        Assert.Equal(raised.Count, cleared.Count);
        Assert.All(cleared, a => Assert.Equal(Onset + 8 + 2, a.ClearedBlockId));
        Assert.False(monitor.Board.HoldsKey);
        Assert.Empty(monitor.Board.Current);
        // The history keeps both changes of each alarm, in order.
        var history = monitor.Board.History;
        Assert.Equal(2 * raised.Count, history.Count);
        Assert.True(history.Select(h => h.Sequence).SequenceEqual(history.Select(h => h.Sequence).Order()));
    }

    [Fact]
    public void Vanishing_vacuum_and_off_gate_clicks_blinding_raise_a_blinding_alarm_within_3_blocks()
    {
        // Blinded detectors click only when the eavesdropper's bright pulses make them: no dark counts, no afterpulses.
        var link = new SyntheticLink(23) { BackgroundFactor = b => b >= Onset ? 0 : 1, OffGatePerClick = 0 };
        var monitor = new LinkMonitor();
        var steps = Scenario.Run(link, monitor, Onset + 5);
        long? raised = Scenario.FirstRaised(steps, AlarmKind.Blinding);
        Assert.NotNull(raised);
        Assert.InRange(raised!.Value, Onset, Onset + 2);
        Assert.Contains(monitor.Board.Current, a => a.Kind == AlarmKind.Blinding && a.Statistic == "vacuum_yield" && a.Value == 0);
        Assert.True(monitor.Board.HoldsKey);
    }

    [Fact]
    public void A_detector_losing_a_fifth_of_its_efficiency_raises_a_detector_imbalance_alarm()
    {
        var link = new SyntheticLink(24) { Detector0Factor = b => b >= Onset ? 0.8 : 1 };
        var monitor = new LinkMonitor();
        var steps = Scenario.Run(link, monitor, Onset + 6);
        Assert.InRange(Scenario.FirstRaised(steps, AlarmKind.DetectorImbalance) ?? -1, Onset, Onset + 3);
        Assert.Contains(monitor.Board.Current, a => a.Statistic == "detector.0.share");
        Assert.True(monitor.Board.HoldsKey);
    }

    [Fact]
    public void Light_moving_out_of_the_gate_raises_a_timing_anomaly()
    {
        var link = new SyntheticLink(25) { InGateFactor = b => b >= Onset ? 0.9 : 1 };
        var monitor = new LinkMonitor();
        var steps = Scenario.Run(link, monitor, Onset + 6);
        Assert.InRange(Scenario.FirstRaised(steps, AlarmKind.TimingAnomaly) ?? -1, Onset, Onset + 3);
        Assert.True(monitor.Board.HoldsKey);
    }

    [Fact]
    public void A_disabled_monitor_raises_nothing_but_still_estimates()
    {
        var link = new SyntheticLink(26) { MisalignmentAt = b => b >= Onset ? 0.1 : 0.01 };
        var monitor = new LinkMonitor(new MonitorOptions { Enabled = false });
        var steps = Scenario.Run(link, monitor, Onset + 5);
        Assert.Empty(Scenario.AllRaised(steps));
        Assert.NotNull(monitor.Latest?.QberZ);
    }
}
