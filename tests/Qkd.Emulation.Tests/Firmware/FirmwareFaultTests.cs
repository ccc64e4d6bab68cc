using Qkd.Emulation.Firmware;
using Qkd.Protocol;
using Qkd.Protocol.Messages;

namespace Qkd.Emulation.Tests.Firmware;

/// <summary>The fault-injection hooks the host drivers and the HIL suite rely on.</summary>
public sealed class FirmwareFaultTests
{
    [Fact]
    public void Corrupted_frames_fail_their_crc_at_the_receiver_one_count_each()
    {
        (FirmwareHost device, FirmwareTestHost host) = FirmwareProtocolTests.Attach(DeviceClass.SinglePhotonDetector);
        using (device)
        using (host)
        {
            device.CorruptNextFrames(3);
            var sequences = new List<uint>();
            for (int i = 0; i < 5; i++)
            {
                uint sequence = host.NextSequence();
                sequences.Add(sequence);
                host.Send(new FrameHeader(DeviceClass.SinglePhotonDetector, MessageType.Ping, FrameFlags.None, sequence, 0), [(byte)i, 1, 2]);
            }
            // The last two answers arrive intact; the first three were damaged on the line.
            Assert.NotNull(host.AwaitResponse(sequences[4]));
            Assert.Equal(3, host.Counters.CrcMismatch);
            Assert.Equal(3, host.Counters.FramesRejected);
            Assert.Equal(3, device.FramesCorrupted);
            Assert.DoesNotContain(host.SetAside, f => sequences.Take(3).Contains(f.Header.Sequence));
            // The line is clean again.
            Assert.Equal([9], host.Request(DeviceClass.SinglePhotonDetector, MessageType.Ping, [9]).Payload);
        }
    }

    [Fact]
    public void A_bit_error_rate_damages_some_frames_and_every_frame_that_arrives_is_intact()
    {
        (FirmwareHost device, FirmwareTestHost host) = FirmwareProtocolTests.Attach(DeviceClass.TimeTagger);
        using (device)
        using (host)
        {
            device.SetLineBitErrorRate(5e-4, seed: 11);
            byte[] payload = Enumerable.Range(1, 64).Select(i => (byte)i).ToArray();
            var sequences = new List<uint>();
            for (int i = 0; i < 200; i++)
            {
                uint sequence = host.NextSequence();
                sequences.Add(sequence);
                host.Send(new FrameHeader(DeviceClass.TimeTagger, MessageType.Ping, FrameFlags.None, sequence, 0), payload);
            }
            // A short marker request, repeated until its answer gets through: then every earlier answer was sent.
            ReceivedFrame? marker = null;
            for (int attempt = 0; attempt < 100 && marker is null; attempt++)
            {
                uint sequence = host.NextSequence();
                host.Send(new FrameHeader(DeviceClass.TimeTagger, MessageType.Ping, FrameFlags.None, sequence, 0), []);
                marker = host.AwaitResponse(sequence, TimeSpan.FromMilliseconds(300));
            }
            Assert.NotNull(marker);
            host.SetAside.RemoveAll(f => f.Header.Sequence > sequences[^1]);
            List<ReceivedFrame> answers = host.SetAside.Where(f => f.Header.IsResponse).ToList();
            Assert.True(host.Counters.FramesRejected > 0, "no frame was damaged");
            Assert.True(answers.Count < 200 && answers.Count > 100, $"{answers.Count} of 200 answers arrived");
            Assert.All(answers, a => Assert.Equal(payload, a.Payload));
        }
    }

    [Fact]
    public void A_hung_device_receives_but_never_answers_until_it_resumes()
    {
        (FirmwareHost device, FirmwareTestHost host) = FirmwareProtocolTests.Attach(DeviceClass.LaserModulator);
        using (device)
        using (host)
        {
            device.StopAnswering();
            uint sequence = host.NextSequence();
            host.Send(new FrameHeader(DeviceClass.LaserModulator, MessageType.Ping, FrameFlags.None, sequence, 0), [1]);
            Assert.Null(host.AwaitResponse(sequence, TimeSpan.FromMilliseconds(500)));
            ((EmulatedLaserModulatorFirmware)device).LoseBiasLock(); // no events either
            Assert.True(SpinWait.SpinUntil(() => device.FramesReceived == 1, FirmwareTestHost.Patience));
            Assert.Null(host.Next(TimeSpan.FromMilliseconds(200)));

            device.ResumeAnswering();
            Assert.Equal([2], host.Request(DeviceClass.LaserModulator, MessageType.Ping, [2]).Payload);
            Assert.DoesNotContain(host.SetAside, f => f.Header.IsResponse && f.Header.Sequence == sequence);
        }
    }

    [Fact]
    public void Unplug_closes_the_line_and_plug_attaches_a_new_one_with_state_kept()
    {
        var clock = new ManualDeviceClock();
        using var detector = new EmulatedSinglePhotonDetectorFirmware(clock: clock);
        (FirmwareTestHost first, var end) = FirmwareTestHost.Connect("detector");
        detector.Plug(end);
        Assert.Throws<InvalidOperationException>(() => detector.Plug(end));
        first.Set(DeviceClass.SinglePhotonDetector, ParameterId.DetectorGateWidthPs, 2, 2_500);
        detector.AddCounts(1, 10);

        detector.Unplug();
        Assert.False(detector.IsAttached);
        Assert.True(SpinWait.SpinUntil(() => first.LineClosed, FirmwareTestHost.Patience));
        Assert.Throws<InvalidOperationException>(() => detector.CorruptNextFrames(1));
        detector.AddCounts(1, 5); // the physics goes on while unplugged
        first.Dispose();

        (FirmwareTestHost second, var again) = FirmwareTestHost.Connect("detector again");
        using (second)
        {
            detector.Plug(again);
            Assert.Equal(2_500, second.Get(DeviceClass.SinglePhotonDetector, ParameterId.DetectorGateWidthPs, 2));
            Assert.Equal(15ul, DetectorCounts.Read(second.Request(DeviceClass.SinglePhotonDetector, MessageType.DetectorReadCounts).Payload).Counts[1]);
            Assert.Equal(3, detector.FramesReceived); // counted across both attachments
        }
    }

    [Fact]
    public void The_host_closing_its_end_detaches_the_device()
    {
        (FirmwareHost device, FirmwareTestHost host) = FirmwareProtocolTests.Attach(DeviceClass.TimeTagger);
        using (device)
        {
            host.Request(DeviceClass.TimeTagger, MessageType.Ping);
            host.Dispose();
            Assert.True(SpinWait.SpinUntil(() => !device.IsAttached, FirmwareTestHost.Patience));
        }
    }
}
