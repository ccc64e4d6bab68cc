using Qkd.Emulation.Firmware;
using Qkd.Emulation.Hosting;
using Qkd.Hardware.Detector;
using Qkd.Protocol;
using Qkd.Protocol.Messages;
using Qkd.Hardware.Devices;

namespace Qkd.Hardware.Tests.Drivers;

/// <summary>The detector driver against the emulated detector firmware, over an in-process stream.</summary>
public sealed class DetectorDriverTests : IDisposable
{
    private readonly EmulatedSinglePhotonDetectorFirmware _firmware = new("SPD-0007", heads: 4);
    private readonly EmulatedDeviceConnector _connector;
    private readonly ProtocolSinglePhotonDetector _detector;

    public DetectorDriverTests()
    {
        _connector = new EmulatedDeviceConnector(_firmware, EmulatedDeviceTransport.InProcess);
        _detector = new ProtocolSinglePhotonDetector(_connector, new DeviceConnectionOptions { ReplyTimeout = TimeSpan.FromMilliseconds(300) });
        _detector.Connect();
    }

    public void Dispose()
    {
        _detector.Dispose();
        _connector.Dispose();
        _firmware.Dispose();
    }

    [Fact]
    public void Connect_reads_the_identity_and_names_the_device_by_serial_number()
    {
        Assert.Equal("SPD-0007", _detector.Identity!.SerialNumber);
        Assert.Equal(DeviceClass.SinglePhotonDetector, _detector.Identity.DeviceClass);
        Assert.Equal(4, _detector.Heads);
        Assert.Contains("SPD-0007", _detector.Name);
    }

    [Fact]
    public void Settings_reach_the_device_and_read_back_in_physical_units()
    {
        _detector.SetEfficiency(2, 0.215);
        _detector.SetGateWidthPs(2, 1500);
        _detector.SetDeadTimePs(1, 10_000_000);
        Assert.Equal(0.215, _detector.GetEfficiency(2), 6);
        Assert.Equal(0.215, _firmware.Efficiency(2), 6);
        Assert.Equal(1500, _detector.GetGateWidthPs(2));
        Assert.Equal(10_000_000, _firmware.DeadTimePs(1));
    }

    [Fact]
    public void A_bad_value_is_refused_before_anything_is_sent_and_names_the_parameter()
    {
        long before = _firmware.FramesReceived;
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => _detector.SetGateWidthPs(1, 5));
        Assert.Contains("gate width on channel 1: 5 ps is outside 100..100000 ps", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => _detector.SetEfficiency(7, 0.1));
        Assert.Equal(before, _firmware.FramesReceived);
        Assert.Equal(1000, _detector.GetGateWidthPs(1)); // unchanged default
    }

    [Fact]
    public void Counts_come_back_per_head()
    {
        _detector.ReadCounts(); // start a fresh window
        _firmware.AddCounts(0, 120);
        _firmware.AddCounts(3, 7);
        var counts = _detector.ReadCounts();
        Assert.Equal([120UL, 0UL, 0UL, 7UL], counts.Counts);
        Assert.True(counts.WindowPs >= 0);
    }

    [Fact]
    public void Read_counts_is_not_retried_because_the_device_restarts_its_window_at_every_read()
    {
        _detector.ReadCounts(); // start a fresh window
        _firmware.AddCounts(1, 500);
        _firmware.CorruptNextFrames(1); // the reply to the next read is lost on the line: its 500 counts with it
        var e = Assert.Throws<DeviceTimeoutException>(() => _detector.ReadCounts());
        Assert.Equal("read counts", e.Operation);
        Assert.Equal(0, _detector.Counters["retries"]);
        Assert.Equal(1, _detector.Counters["rx.crcMismatch"]);
        // A retry would have answered 0 counts as if the window had been quiet; the caller learns instead that the
        // window's counts were lost, and the next read starts a new window.
        _firmware.AddCounts(1, 7);
        Assert.Equal(7UL, _detector.ReadCounts().Counts[1]);
    }

    [Fact]
    public void An_open_interlock_refuses_bias_with_a_typed_nack()
    {
        _firmware.OpenInterlock();
        var e = Assert.Throws<DeviceNackException>(() => _detector.SetBiasEnabled(0, true));
        Assert.Equal(ErrorCode.InterlockOpen, e.Code);
        Assert.Contains("SPD-0007", e.Message);
        Assert.True((_detector.GetStatus().Flags & StatusFlags.InterlockOpen) != 0);
        _firmware.CloseInterlock();
        _detector.SetBiasEnabled(0, true);
    }

    [Fact]
    public void A_device_that_stops_answering_gives_a_typed_timeout_naming_device_and_command()
    {
        _firmware.StopAnswering();
        var e = Assert.Throws<DeviceTimeoutException>(() => _detector.GetGateDelayPs(0));
        Assert.Contains("SPD-0007", e.Device);
        Assert.Equal("read gate delay on channel 0", e.Operation);
        Assert.Equal(3, _detector.Counters["timeouts"]); // first attempt + 2 retries
        Assert.Equal(2, _detector.Counters["retries"]);
    }

    [Fact]
    public void A_reply_corrupted_on_the_line_is_counted_and_the_request_retried()
    {
        _firmware.CorruptNextFrames(1);
        var status = _detector.GetStatus();
        Assert.True((status.Flags & StatusFlags.Ready) != 0);
        Assert.Equal(1, _detector.Counters["rx.crcMismatch"]);
        Assert.Equal(1, _detector.Counters["retries"]);
    }

    [Fact]
    public void An_unplugged_device_gives_a_typed_disconnect_and_reconnects_after_replug_with_settings_reapplied()
    {
        _detector.SetGateDelayPs(3, 12_345);
        var disconnected = new TaskCompletionSource<DeviceDisconnectedException>();
        _detector.Disconnected += e => disconnected.TrySetResult(e);

        _connector.Unplug();
        Assert.True(disconnected.Task.Wait(TimeSpan.FromSeconds(10)));
        Assert.Throws<DeviceDisconnectedException>(() => _detector.GetStatus());
        Assert.Throws<DeviceDisconnectedException>(() => _detector.Reconnect()); // still unplugged

        _connector.Replug();
        long before = _firmware.FramesReceived;
        _detector.Reconnect();
        Assert.Equal(2, _firmware.FramesReceived - before); // Identify, then the one setting written so far, re-applied
        Assert.Equal(12_345, _detector.GetGateDelayPs(3));
        Assert.Equal(1, _detector.Reconnects);
        Assert.Equal(1, _detector.Disconnects);
    }
}
