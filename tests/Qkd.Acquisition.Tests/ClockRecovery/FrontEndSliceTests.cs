using Qkd.Acquisition.Replay;
using Qkd.Acquisition.Tests.Replay;
using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Emulation;
using Qkd.Emulation.TimeTagging;

namespace Qkd.Acquisition.Tests;

/// <summary>
/// The front end over a read source recovers the clock and decodes in slices of <see cref="TimeTagFrontEnd.SliceTags"/>
/// (issue 14: the clicks decoded while in cache): the detections are those of clock recovery and the decoder run over
/// the whole stream at once, in the same order, with the same squashing draws for the multi-clicks.
/// </summary>
public sealed class FrontEndSliceTests
{
    [Fact]
    public void A_passive_front_end_yields_the_detections_of_one_pass_over_the_stream()
    {
        var stream = EmulatedTagStream.Generate(LinkProfile.Default.WithDistance(5) with { ClockDriftPpm = 20, TimingJitterRmsPs = 100 },
            new EmulatedTimeTaggerOptions
            {
                SyncChannel = 0,
                FirstDetectorChannel = 4,
                SyncDivider = 1024,
                SyncDelayPs = 3_000,
                DetectorDelaysPs = [0, 1_500, 3_700, 12_345],
                DarkCountRateHz = 1e6,
                EndPulse = 3_000_000,
            });
        var options = stream.MatchingOptions(gateWidthPs: 600);

        var recovery = new ClockRecovery(options);
        DetectorClick[] clicks = EmulatedTagStream.Recover(recovery, stream.Tags, batch: stream.Tags.Length);
        var decoder = new DetectionDecoder(ReceiverLayout.PassiveFourDetector, new Xoshiro256StarStar(9));
        var expected = new Detection[clicks.Length];
        int expectedCount = decoder.Decode(clicks, expected);
        Assert.True(decoder.MultiClicks > 0, "the stream should hold multi-clicks, whose squashing draws must come in the same order");

        byte[] file = TimeTagFileTestData.Write(TimeTagFileTestData.Header(), stream.Tags, 8192);
        using var reader = new TimeTagFileReader(new MemoryStream(file, writable: false), "slices.qtt");
        using var frontEnd = new TimeTagFrontEnd(reader, options, ReceiverLayout.PassiveFourDetector, new Xoshiro256StarStar(9));
        frontEnd.Start();
        var actual = new List<Detection>();
        var destination = new Detection[20_000];
        int n;
        while ((n = frontEnd.Read(destination, TestContext.Current.CancellationToken)) > 0) actual.AddRange(destination.AsSpan(0, n));

        Assert.Equal(expected.AsSpan(0, expectedCount).ToArray(), actual.ToArray());
        Assert.Equal(recovery.Counters, frontEnd.Clock.Counters);
        Assert.Equal(decoder.MultiClicks, frontEnd.Decoder.MultiClicks);
    }
}
