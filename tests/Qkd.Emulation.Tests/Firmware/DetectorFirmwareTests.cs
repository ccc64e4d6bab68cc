using Qkd.Emulation.Firmware;
using Qkd.Protocol;
using Qkd.Protocol.Messages;

namespace Qkd.Emulation.Tests.Firmware;

/// <summary>The emulated single-photon detector: counts, cooler, interlock and bias, blinding, an active receiver's basis modulation.</summary>
public sealed class DetectorFirmwareTests
{
    private const DeviceClass Detector = DeviceClass.SinglePhotonDetector;

    private static (EmulatedSinglePhotonDetectorFirmware Device, FirmwareTestHost Host, ManualDeviceClock Clock) Attach()
    {
        var clock = new ManualDeviceClock();
        var device = new EmulatedSinglePhotonDetectorFirmware(clock: clock);
        (FirmwareTestHost host, var deviceEnd) = FirmwareTestHost.Connect("detector");
        device.Plug(deviceEnd);
        return (device, host, clock);
    }

    [Fact]
    public void Read_counts_returns_the_counts_and_window_since_the_previous_read()
    {
        (EmulatedSinglePhotonDetectorFirmware device, FirmwareTestHost host, ManualDeviceClock clock) = Attach();
        using (device)
        using (host)
        {
            clock.Advance(1_000_000_000); // 1 ms
            device.AddCounts(0, 5);
            device.AddCounts(3, 7);
            DetectorCounts first = DetectorCounts.Read(host.Request(Detector, MessageType.DetectorReadCounts).Payload);
            Assert.Equal(1_000_000_000, first.WindowPs);
            Assert.Equal([5ul, 0ul, 0ul, 7ul], first.Counts);
            Assert.Equal(5000, first.RateHz(0), 6);

            clock.Advance(250_000);
            device.AddCounts(1, 2);
            DetectorCounts second = DetectorCounts.Read(host.Request(Detector, MessageType.DetectorReadCounts).Payload);
            Assert.Equal(250_000, second.WindowPs);
            Assert.Equal([0ul, 2ul, 0ul, 0ul], second.Counts);

            ReceivedFrame malformed = host.Request(Detector, MessageType.DetectorReadCounts, [1]);
            Assert.Equal(ErrorCode.MalformedPayload, malformed.Nack.Code);
        }
    }

    [Fact]
    public void Temperature_moves_toward_the_set_point_at_the_cooling_rate_and_settles()
    {
        (EmulatedSinglePhotonDetectorFirmware device, FirmwareTestHost host, ManualDeviceClock clock) = Attach();
        using (device)
        using (host)
        {
            Assert.True((device.Flags & StatusFlags.TemperatureSettled) != 0); // powered on at the default set point
            Assert.Equal(233_150, host.Set(Detector, ParameterId.DetectorTemperatureSetPointMilliKelvin, 0, 233_150));
            // The change unsettles the cooler (StatusChanged after the response).
            StatusChange unsettled = StatusChange.Read(host.Next()!.Payload);
            Assert.Equal(StatusFlags.None, unsettled.After & StatusFlags.TemperatureSettled);

            clock.Advance(TimeSpan.FromSeconds(4)); // 0.5 K/s: 2 K of the 10 K
            Assert.Equal(225_150, host.Get(Detector, ParameterId.DetectorTemperatureMilliKelvin));
            Assert.Equal(0, (long)(DeviceStatus.Read(host.Request(Detector, MessageType.GetStatus).Payload).Flags & StatusFlags.TemperatureSettled));

            clock.Advance(TimeSpan.FromSeconds(16));
            Assert.Equal(233_150, host.Get(Detector, ParameterId.DetectorTemperatureMilliKelvin));
            DeviceStatus settled = DeviceStatus.Read(host.Request(Detector, MessageType.GetStatus).Payload);
            Assert.True((settled.Flags & StatusFlags.TemperatureSettled) != 0);
            // The settling is reported once: by the periodic poll (before the response) or by the request (after it).
            ReceivedFrame? change = host.SetAside.LastOrDefault(f => f.Header.Type == MessageType.StatusChanged) ?? host.Next();
            Assert.NotNull(change);
            Assert.Equal(MessageType.StatusChanged, change.Header.Type);
            Assert.True((StatusChange.Read(change.Payload).After & StatusFlags.TemperatureSettled) != 0);
        }
    }

    [Fact]
    public void Opening_the_interlock_drops_bias_and_refuses_it_until_closed()
    {
        (EmulatedSinglePhotonDetectorFirmware device, FirmwareTestHost host, _) = Attach();
        using (device)
        using (host)
        {
            Assert.Equal(1, host.Get(Detector, ParameterId.DetectorBiasEnabled, 2));
            device.OpenInterlock();
            ReceivedFrame interlock = host.Next()!;
            Assert.Equal(MessageType.InterlockChanged, interlock.Header.Type);
            Assert.True(InterlockChange.Read(interlock.Payload).Open);
            ReceivedFrame status = host.Next()!;
            Assert.Equal(MessageType.StatusChanged, status.Header.Type);
            Assert.True((StatusChange.Read(status.Payload).After & StatusFlags.InterlockOpen) != 0);
            for (byte head = 0; head < 4; head++)
            {
                Assert.Equal(0, host.Get(Detector, ParameterId.DetectorBiasEnabled, head));
                Assert.False(device.IsBiasEnabled(head));
            }
            ReceivedFrame refused = host.Request(Detector, MessageType.SetParameter, new ParameterValue(ParameterId.DetectorBiasEnabled, 1, 1).ToPayload());
            Assert.Equal(ErrorCode.InterlockOpen, refused.Nack.Code);
            Assert.Contains("bias enabled", refused.Nack.Text);
            Assert.Contains("interlock", refused.Nack.Text);
            Assert.Equal(0, host.Set(Detector, ParameterId.DetectorBiasEnabled, 1, 0)); // turning it off is fine

            device.CloseInterlock();
            Assert.Equal(1, host.Set(Detector, ParameterId.DetectorBiasEnabled, 1, 1));
            Assert.True(device.IsBiasEnabled(1));
            Assert.False(device.IsBiasEnabled(0)); // the others stay off until the host turns them on
        }
    }

    [Fact]
    public void Blinding_alarm_is_reported_in_status()
    {
        (EmulatedSinglePhotonDetectorFirmware device, FirmwareTestHost host, _) = Attach();
        using (device)
        using (host)
        {
            device.InjectBlinding();
            Assert.True((DeviceStatus.Read(host.Request(Detector, MessageType.GetStatus).Payload).Flags & StatusFlags.BlindingAlarm) != 0);
            device.ClearBlinding();
            Assert.Equal(0u, (uint)(DeviceStatus.Read(host.Request(Detector, MessageType.GetStatus).Payload).Flags & StatusFlags.BlindingAlarm));
        }
    }

    [Fact]
    public void Basis_modulation_keeps_the_hosts_bases_per_slot_and_counts_what_it_received()
    {
        var clock = new ManualDeviceClock();
        using var device = new EmulatedSinglePhotonDetectorFirmware(heads: 2, clock: clock, basisModulator: true);
        (FirmwareTestHost host, var deviceEnd) = FirmwareTestHost.Connect("active detector");
        device.Plug(deviceEnd);
        using (host)
        {
            Assert.False(host.Request(Detector, MessageType.DetectorStartBasisModulation).Header.IsNack);
            Assert.Equal(ErrorCode.InvalidState, host.Request(Detector, MessageType.DetectorStartBasisModulation).Nack.Code);
            Core.Basis[] bases = Enumerable.Range(0, 64).Select(i => (Core.Basis)((i * 7 / 3) & 1)).ToArray();
            var payload = new byte[BasisBlockCodec.PayloadLength(64)];
            BasisBlockCodec.WriteHeader(payload, 0);
            BasisBlockCodec.Pack(bases, payload.AsSpan(BasisBlockCodec.HeaderLength));
            host.Send(new FrameHeader(Detector, MessageType.DetectorBasisData, FrameFlags.Stream, 0, (ushort)payload.Length), payload);
            StreamSummary summary = StreamSummary.Read(host.Request(Detector, MessageType.DetectorStopBasisModulation).Payload);
            Assert.Equal(new StreamSummary(64, 1), summary);
            ModulatorSymbolFifo pattern = device.LastBasisPattern!;
            for (int i = 0; i < 64; i++)
            {
                Core.PulseSymbol slot = pattern.SymbolAt(i);
                Assert.Equal(bases[i], slot.Basis);
                Assert.Equal(Core.Intensity.Signal, slot.Intensity);
            }
            // After the end no slot has a basis (vacuum: the gates are closed there).
            Assert.Equal(Core.Intensity.Vacuum, pattern.SymbolAt(64).Intensity);
        }
    }

    [Fact]
    public void A_detector_without_a_basis_modulator_refuses_the_basis_messages_and_the_interlock_ends_a_pattern()
    {
        (EmulatedSinglePhotonDetectorFirmware plain, FirmwareTestHost plainHost, _) = Attach();
        using (plain)
        using (plainHost)
            Assert.Equal(ErrorCode.UnknownMessage, plainHost.Request(Detector, MessageType.DetectorStartBasisModulation).Nack.Code);

        using var device = new EmulatedSinglePhotonDetectorFirmware(heads: 2, clock: new ManualDeviceClock(), basisModulator: true);
        (FirmwareTestHost host, var deviceEnd) = FirmwareTestHost.Connect("active detector");
        device.Plug(deviceEnd);
        using (host)
        {
            Assert.False(host.Request(Detector, MessageType.DetectorStartBasisModulation).Header.IsNack);
            device.OpenInterlock();
            Assert.True(device.LastBasisPattern!.IsComplete);
            Assert.Null(device.BasisPattern);
            Assert.Equal(ErrorCode.InterlockOpen, host.Request(Detector, MessageType.DetectorStartBasisModulation).Nack.Code);
        }
    }
}
