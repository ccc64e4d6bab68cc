using Qkd.Hardware.Peripherals;
using Qkd.ClassicalChannel;
using Qkd.Hardware.RandomNumberGenerator;
using Qkd.Lab.Run;
using Qkd.Node.Devices;
using Qkd.Node.Link;

namespace Qkd.Hil;

/// <summary>What must hold after every run that was not stopped by a fault, on every target.</summary>
public static class LinkChecks
{
    /// <param name="expectedQberZ">The physics' QBER; the measured one must be within a few points of it.</param>
    public static void Healthy(LinkReport report, HilTarget target, LinkRig rig, double expectedQberZ, bool keyExpected)
    {
        Assert.False(report.Aborted, $"the link aborted: {report.Reason}");
        Assert.True(report.IdenticalKeys, "Alice's and Bob's key files differ");
        Assert.Equal(0, report.Verification.BlocksFailed);
        Assert.True(report.Detections > 0, "no detections reached distillation");
        if (report.QberZ is double qber) Assert.InRange(qber, 0, expectedQberZ + 0.02);
        if (keyExpected && target.ExpectKey) Assert.True(report.SecretBits > 0, $"no key: {report.Reason}");
        NothingLostSilently(report, rig);
    }

    /// <summary>
    /// Every tag the tagger driver received reached the acquisition loop (none dropped by the ring), and every loss on
    /// the way is counted by someone: rejected frames, lost frames and overflows show in the counters, and a lost frame
    /// is a marked gap in the tag stream.
    /// </summary>
    public static void NothingLostSilently(LinkReport report, LinkRig rig)
    {
        var tagger = rig.Tagger.Counters;
        var acquisition = report.Receiver.Acquisition!;
        Assert.Equal(0, acquisition.DroppedByRing);
        Assert.Equal(0, tagger["stream.framesDuplicated"]);
        Assert.Equal(0, tagger["stream.framesInvalid"]);
        if (tagger["stream.framesLost"] > 0) Assert.True(tagger["stream.gapsMarked"] > 0, "frames were lost but no gap was marked in the tag stream");
        // Every event tag the driver received went through acquisition (plus the overflow markers it added).
        Assert.True(acquisition.Tags >= tagger["stream.tags"], $"acquisition saw {acquisition.Tags} tags, the driver received {tagger["stream.tags"]}");
    }
}
