using System.Device.Gpio;
using Qkd.Hardware.Gpio;

namespace Qkd.Hardware.Tests.Gpio;

public sealed class InterlockInputTests
{
    private const int Pin = 5;
    private const long DebounceNs = 5_000_000;

    // Wiring as in the README: normally-closed switch to ground, pull-up; closed reads Low, open (or a cut wire) reads High.
    private static (GpioTestRig Rig, InterlockInput Interlock, List<InterlockEventArgs> Events) Start(PinValue initial, long debounceNs = DebounceNs)
    {
        var rig = new GpioTestRig();
        rig.Driver.Drive(Pin, initial);
        var interlock = new InterlockInput(rig.Controller, Pin, debounceNs, clock: rig.Clock);
        var events = new List<InterlockEventArgs>();
        interlock.Opened += (_, e) => events.Add(e);
        interlock.Closed += (_, e) => events.Add(e);
        return (rig, interlock, events);
    }

    [Fact]
    public void A_closed_line_at_start_counts_as_closed_only_after_the_debounce_time()
    {
        var (rig, interlock, events) = Start(PinValue.Low);
        using var _ = rig;
        long startPs = rig.NowPs;
        Assert.Equal(InterlockState.Open, interlock.State);
        rig.Clock.Advance(DebounceNs - 1);
        Assert.Equal(InterlockState.Open, interlock.State);
        rig.Clock.Advance(1);
        Assert.Equal(InterlockState.Closed, interlock.State);
        var closed = Assert.Single(events);
        Assert.Equal(InterlockState.Closed, closed.State);
        Assert.Equal(startPs, closed.TimePs);
        Assert.Equal(1, interlock.TransitionCount);
    }

    [Fact]
    public void Opening_is_reported_at_the_first_edge_with_its_time_and_bounces_add_no_events()
    {
        var (rig, interlock, events) = Start(PinValue.Low);
        using var _ = rig;
        rig.Clock.Advance(DebounceNs);
        events.Clear();

        rig.Clock.Advance(1_000);
        long openPs = rig.NowPs;
        rig.Driver.Drive(Pin, PinValue.High); // lid opens
        Assert.Equal(InterlockState.Open, interlock.State);
        // contact bounce: three short closed/open blips, each much shorter than the debounce time
        for (int i = 0; i < 3; i++)
        {
            rig.Clock.Advance(50_000);
            rig.Driver.Drive(Pin, PinValue.Low);
            rig.Clock.Advance(50_000);
            rig.Driver.Drive(Pin, PinValue.High);
        }
        rig.Clock.Advance(10 * DebounceNs);

        var opened = Assert.Single(events);
        Assert.Equal(InterlockState.Open, opened.State);
        Assert.Equal(openPs, opened.TimePs);
        Assert.Equal(InterlockState.Open, interlock.State);
        Assert.Equal(2, interlock.TransitionCount);
        Assert.Equal(7, interlock.RawEdgeCount);
    }

    [Fact]
    public void Closing_bounce_is_accepted_once_the_line_has_held_closed_for_the_debounce_time()
    {
        var (rig, interlock, events) = Start(PinValue.High);
        using var _ = rig;
        Assert.Equal(InterlockState.Open, interlock.State);

        rig.Driver.Drive(Pin, PinValue.Low);
        rig.Clock.Advance(DebounceNs / 2);
        rig.Driver.Drive(Pin, PinValue.High); // bounce: restarts the wait
        rig.Clock.Advance(DebounceNs / 4);
        long settledPs = rig.NowPs;
        rig.Driver.Drive(Pin, PinValue.Low);
        rig.Clock.Advance(DebounceNs - 1);
        Assert.Empty(events);
        rig.Clock.Advance(1);

        var closed = Assert.Single(events);
        Assert.Equal(InterlockState.Closed, closed.State);
        Assert.Equal(settledPs, closed.TimePs);
        Assert.Equal(1, interlock.TransitionCount);
        Assert.Equal(3, interlock.RawEdgeCount);
    }

    [Fact]
    public void Without_debounce_every_edge_is_a_transition()
    {
        var (rig, interlock, events) = Start(PinValue.High, debounceNs: 0);
        using var _ = rig;
        rig.Driver.DriveSequence(Pin, [PinValue.Low, PinValue.High, PinValue.Low]);
        Assert.Equal([InterlockState.Closed, InterlockState.Open, InterlockState.Closed], events.Select(e => e.State));
        Assert.Equal(3, interlock.TransitionCount);
        Assert.True(interlock.IsClosed);
    }

    [Fact]
    public void An_unplugged_interlock_cable_reads_open_through_the_pull_up()
    {
        var (rig, interlock, events) = Start(PinValue.Low);
        using var _ = rig;
        rig.Clock.Advance(DebounceNs);
        rig.Driver.Release(Pin); // the switch is no longer connected: the pull-up wins
        Assert.Equal(InterlockState.Open, interlock.State);
        Assert.Equal(InterlockState.Open, events[^1].State);
    }

    [Fact]
    public void Dispose_unregisters_and_closes_the_line()
    {
        var (rig, interlock, _) = Start(PinValue.High);
        using var _r = rig;
        Assert.Equal(1, rig.Driver.CallbackCount(Pin));
        interlock.Dispose();
        Assert.Equal(0, rig.Driver.CallbackCount(Pin));
        Assert.False(rig.Controller.IsPinOpen(Pin));
    }

    [Fact]
    public void An_output_mode_or_a_negative_debounce_is_rejected()
    {
        using var rig = new GpioTestRig();
        Assert.Throws<ArgumentException>(() => new InterlockInput(rig.Controller, Pin, mode: PinMode.Output));
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => new InterlockInput(rig.Controller, Pin, debounceNs: -1));
        Assert.Equal(-1L, ex.ActualValue);
    }
}
