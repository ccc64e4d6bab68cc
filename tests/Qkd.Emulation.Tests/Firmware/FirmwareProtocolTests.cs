using System.Buffers.Binary;
using Qkd.Core.TimeTags;
using Qkd.Emulation.Firmware;
using Qkd.Protocol;
using Qkd.Protocol.Messages;

namespace Qkd.Emulation.Tests.Firmware;

/// <summary>
/// The messages every device class answers, per the brief's "Protocol behaviour", checked with raw frames built by the
/// codec: exact nack codes and texts naming the field and value.
/// </summary>
public sealed class FirmwareProtocolTests
{
    public static TheoryData<DeviceClass> Classes => new()
    {
        DeviceClass.SinglePhotonDetector, DeviceClass.LaserModulator, DeviceClass.TimeTagger, DeviceClass.RandomNumberGenerator,
    };

    internal static FirmwareHost Create(DeviceClass deviceClass, IDeviceClock? clock = null) => deviceClass switch
    {
        DeviceClass.SinglePhotonDetector => new EmulatedSinglePhotonDetectorFirmware(clock: clock ?? new ManualDeviceClock(), basisModulator: true),
        DeviceClass.LaserModulator => new EmulatedLaserModulatorFirmware(clock: clock ?? new ManualDeviceClock()),
        DeviceClass.RandomNumberGenerator => new EmulatedRandomNumberGeneratorFirmware(clock: clock ?? new ManualDeviceClock()),
        _ => new EmulatedTimeTaggerFirmware(() => new ListTagSource([]), clock: clock ?? new ManualDeviceClock()),
    };

    internal static (FirmwareHost Device, FirmwareTestHost Host) Attach(DeviceClass deviceClass)
    {
        FirmwareHost device = Create(deviceClass);
        (FirmwareTestHost host, var deviceEnd) = FirmwareTestHost.Connect(deviceClass.Describe());
        device.Plug(deviceEnd);
        return (device, host);
    }

    private static void AssertNack(ReceivedFrame response, ErrorCode code, params string[] textParts)
    {
        Assert.True(response.Header.IsNack, $"expected a nack {code}, got a plain response");
        Assert.Equal(FrameFlags.Response | FrameFlags.Nack, response.Header.Flags);
        NackPayload nack = response.Nack;
        Assert.Equal(code, nack.Code);
        foreach (string part in textParts) Assert.Contains(part, nack.Text);
    }

    [Theory]
    [MemberData(nameof(Classes))]
    public void Identify_and_ping_are_answered_whatever_the_class_byte(DeviceClass deviceClass)
    {
        (FirmwareHost device, FirmwareTestHost host) = Attach(deviceClass);
        using (device)
        using (host)
        {
            foreach (DeviceClass addressed in (DeviceClass[])[DeviceClass.Any, deviceClass, deviceClass == DeviceClass.TimeTagger ? DeviceClass.LaserModulator : DeviceClass.TimeTagger])
            {
                ReceivedFrame identify = host.Request(addressed, MessageType.Identify);
                Assert.Equal(addressed, identify.Header.DeviceClass); // the answer keeps the request's class byte
                Assert.Equal(FrameFlags.Response, identify.Header.Flags);
                DeviceIdentity identity = DeviceIdentity.Read(identify.Payload);
                Assert.Equal(deviceClass, identity.DeviceClass);
                Assert.Equal(0x1209, identity.VendorId);
                Assert.Equal(0x7D00 + (int)deviceClass, identity.ProductId);
                Assert.Equal(device.SerialNumber, identity.SerialNumber);
                Assert.Equal(device.ChannelCount, identity.ChannelCount);

                byte[] ping = Enumerable.Range(0, 64).Select(i => (byte)(i * 7)).ToArray();
                ReceivedFrame echo = host.Request(addressed, MessageType.Ping, ping);
                Assert.Equal(ping, echo.Payload);
                Assert.Equal(MessageType.Ping, echo.Header.Type);
            }
            AssertNack(host.Request(DeviceClass.Any, MessageType.Ping, new byte[65]), ErrorCode.MalformedPayload, "Ping", "65");
            AssertNack(host.Request(DeviceClass.Any, MessageType.Identify, new byte[1]), ErrorCode.MalformedPayload, "Identify", "1 bytes");
        }
    }

    [Theory]
    [MemberData(nameof(Classes))]
    public void Requests_for_another_class_unknown_types_and_wrong_lengths_are_nacked(DeviceClass deviceClass)
    {
        (FirmwareHost device, FirmwareTestHost host) = Attach(deviceClass);
        using (device)
        using (host)
        {
            DeviceClass other = deviceClass == DeviceClass.TimeTagger ? DeviceClass.SinglePhotonDetector : DeviceClass.TimeTagger;
            AssertNack(host.Request(other, MessageType.GetStatus), ErrorCode.WrongDeviceClass, $"device class {(byte)other}", deviceClass.Describe());
            AssertNack(host.Request(DeviceClass.Any, MessageType.GetStatus), ErrorCode.WrongDeviceClass, "device class 0");
            AssertNack(host.Request(deviceClass, (MessageType)0x7F), ErrorCode.UnknownMessage, "0x7F", deviceClass.Describe());
            AssertNack(host.Request(deviceClass, MessageType.GetStatus, new byte[3]), ErrorCode.MalformedPayload, "GetStatus", "3 bytes");
            AssertNack(host.Request(deviceClass, MessageType.GetParameter, new byte[2]), ErrorCode.MalformedPayload, "GetParameter", "2 bytes");
            AssertNack(host.Request(deviceClass, MessageType.SetParameter, new byte[10]), ErrorCode.MalformedPayload, "SetParameter", "10 bytes");
            AssertNack(host.Request(deviceClass, MessageType.ResetSettings, new byte[1]), ErrorCode.MalformedPayload, "ResetSettings");
            // The device is still in step: the next request gets its own answer.
            Assert.Equal([1, 2, 3], host.Request(deviceClass, MessageType.Ping, [1, 2, 3]).Payload);
        }
    }

    [Theory]
    [MemberData(nameof(Classes))]
    public void Parameters_follow_the_catalog(DeviceClass deviceClass)
    {
        (FirmwareHost device, FirmwareTestHost host) = Attach(deviceClass);
        using (device)
        using (host)
        {
            foreach (ParameterDefinition definition in ParameterCatalog.For(deviceClass))
            {
                int channels = definition.PerChannel ? device.ChannelCount : 1;
                for (byte channel = 0; channel < channels; channel++)
                {
                    long expected = definition.Id == ParameterId.ChannelCount ? device.ChannelCount : definition.Default;
                    Assert.Equal(expected, host.Get(deviceClass, definition.Id, channel));
                }
                byte badChannel = (byte)(definition.PerChannel ? device.ChannelCount : 1);
                AssertNack(host.Request(deviceClass, MessageType.GetParameter, ParameterValue.AddressPayload(definition.Id, badChannel)),
                    ErrorCode.OutOfRange, definition.Name, $"channel {badChannel}");
                if (!definition.Writable)
                {
                    AssertNack(host.Request(deviceClass, MessageType.SetParameter, new ParameterValue(definition.Id, 0, definition.Default).ToPayload()),
                        ErrorCode.ReadOnlyParameter, definition.Name, "read-only");
                    continue;
                }
                AssertNack(host.Request(deviceClass, MessageType.SetParameter, new ParameterValue(definition.Id, badChannel, definition.Default).ToPayload()),
                    ErrorCode.OutOfRange, definition.Name, $"channel {badChannel}");
                AssertNack(host.Request(deviceClass, MessageType.SetParameter, new ParameterValue(definition.Id, 0, definition.Maximum + 1).ToPayload()),
                    ErrorCode.OutOfRange, definition.OutOfRangeMessage(definition.Maximum + 1, 0));
                AssertNack(host.Request(deviceClass, MessageType.SetParameter, new ParameterValue(definition.Id, 0, definition.Minimum - 1).ToPayload()),
                    ErrorCode.OutOfRange, definition.OutOfRangeMessage(definition.Minimum - 1, 0));
                Assert.Equal(definition.Default, host.Get(deviceClass, definition.Id)); // nothing changed
                long value = definition.Default == definition.Maximum ? definition.Minimum : definition.Maximum;
                byte last = (byte)(channels - 1);
                Assert.Equal(value, host.Set(deviceClass, definition.Id, last, value));
                Assert.Equal(value, host.Get(deviceClass, definition.Id, last));
            }

            // Parameters of other classes are unknown here.
            ParameterDefinition foreign = ParameterCatalog.All.First(d => d.DeviceClass != deviceClass && d.DeviceClass != DeviceClass.Any);
            AssertNack(host.Request(deviceClass, MessageType.GetParameter, ParameterValue.AddressPayload(foreign.Id, 0)),
                ErrorCode.UnknownParameter, $"0x{(ushort)foreign.Id:X4}");
            AssertNack(host.Request(deviceClass, MessageType.SetParameter, new ParameterValue((ParameterId)0x7777, 0, 1).ToPayload()),
                ErrorCode.UnknownParameter, "0x7777");

            // ResetSettings: every writable parameter back to its default.
            ReceivedFrame reset = host.Request(deviceClass, MessageType.ResetSettings);
            Assert.False(reset.Header.IsNack);
            Assert.Empty(reset.Payload);
            foreach (ParameterDefinition definition in ParameterCatalog.For(deviceClass).Where(d => d.Writable))
                for (byte channel = 0; channel < (definition.PerChannel ? device.ChannelCount : 1); channel++)
                    Assert.Equal(definition.Default, host.Get(deviceClass, definition.Id, channel));
        }
    }

    [Theory]
    [MemberData(nameof(Classes))]
    public void Get_status_reports_counters_and_rejected_frames_are_counted_and_never_answered(DeviceClass deviceClass)
    {
        (FirmwareHost device, FirmwareTestHost host) = Attach(deviceClass);
        using (device)
        using (host)
        {
            // A frame with a broken CRC: counted, not answered.
            var frame = new byte[ProtocolConstants.MaxFrameLength];
            uint badSequence = host.NextSequence();
            int length = FrameCodec.Encode(new FrameHeader(deviceClass, MessageType.Ping, FrameFlags.None, badSequence, 0), [9, 9], frame);
            frame[length - 1] ^= 0x40;
            var encoded = new byte[Cobs.MaxEncodedLength(length) + 1];
            int encodedLength = Cobs.Encode(frame.AsSpan(0, length), encoded);
            encoded[encodedLength++] = 0;
            host.SendRaw(encoded.AsSpan(0, encodedLength));
            host.SendRaw([0x55, 0x66, 0x00]); // noise up to a delimiter

            ReceivedFrame status = host.Request(deviceClass, MessageType.GetStatus);
            DeviceStatus parsed = DeviceStatus.Read(status.Payload);
            Assert.Equal(2ul, parsed.FramesRejected);
            Assert.Equal(1ul, parsed.FramesReceived); // the GetStatus itself
            Assert.True((parsed.Flags & StatusFlags.Ready) != 0);
            Assert.Equal(0ul, parsed.ItemsLost);
            Assert.DoesNotContain(host.SetAside, f => f.Header.Sequence == badSequence && f.Header.IsResponse);
            Assert.Equal(2, device.FramesRejected);
        }
    }

    [Fact]
    public void Data_lost_clears_on_read_with_a_status_change_after_the_response()
    {
        var tags = GatedTagSource.Ramp(1_000, 10, 1_000).ToList();
        using var tagger = new EmulatedTimeTaggerFirmware(() => new ListTagSource(tags), clock: new ManualDeviceClock());
        (FirmwareTestHost host, var deviceEnd) = FirmwareTestHost.Connect();
        using (host)
        {
            tagger.Plug(deviceEnd);
            tagger.InjectOverflow(3);
            Assert.False(host.Request(DeviceClass.TimeTagger, MessageType.TaggerStartStream).Header.IsNack);
            host.ReadStreamUntilStopped();
            DeviceStatus first = DeviceStatus.Read(host.Request(DeviceClass.TimeTagger, MessageType.GetStatus).Payload);
            Assert.True((first.Flags & StatusFlags.DataLost) != 0);
            Assert.Equal(3ul, first.ItemsLost);
            ReceivedFrame? cleared = host.Next();
            Assert.NotNull(cleared);
            Assert.Equal(MessageType.StatusChanged, cleared.Header.Type);
            StatusChange change = StatusChange.Read(cleared.Payload);
            Assert.Equal(StatusFlags.DataLost, change.Before ^ change.After);
            DeviceStatus second = DeviceStatus.Read(host.Request(DeviceClass.TimeTagger, MessageType.GetStatus).Payload);
            Assert.Equal(0u, (uint)(second.Flags & StatusFlags.DataLost));
            Assert.Equal(3ul, second.ItemsLost); // the counter stays
        }
    }

    [Fact]
    public void Events_carry_the_device_event_counter_from_zero()
    {
        using var detector = new EmulatedSinglePhotonDetectorFirmware(clock: new ManualDeviceClock());
        (FirmwareTestHost host, var deviceEnd) = FirmwareTestHost.Connect();
        using (host)
        {
            detector.Plug(deviceEnd);
            detector.InjectBlinding();
            detector.ClearBlinding();
            var events = new[] { host.Next(), host.Next() };
            Assert.All(events, e => Assert.True(e!.Header.IsEvent));
            Assert.Equal([0u, 1u], events.Select(e => e!.Header.Sequence));
            Assert.Equal(StatusFlags.BlindingAlarm, StatusChange.Read(events[0]!.Payload).After & StatusFlags.BlindingAlarm);
            Assert.Equal(StatusFlags.None, StatusChange.Read(events[1]!.Payload).After & StatusFlags.BlindingAlarm);
        }
    }

    internal static long ReadI64(byte[] payload, int at) => BinaryPrimitives.ReadInt64LittleEndian(payload.AsSpan(at));

    internal static TimeTag[] Tags(params (long Time, ushort Channel)[] tags) => tags.Select(t => new TimeTag(t.Time, t.Channel)).ToArray();
}
