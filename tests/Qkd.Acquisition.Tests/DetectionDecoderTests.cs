using CsCheck;
using Qkd.Core;
using Qkd.Core.Random;

namespace Qkd.Acquisition.Tests;

public class DetectionDecoderTests
{
    [Fact]
    public void Single_clicks_decode_by_the_channel_convention()
    {
        foreach (var basis in new[] { Basis.Z, Basis.X })
        foreach (int bit in new[] { 0, 1 })
        {
            var passive = new DetectionDecoder(ReceiverLayout.PassiveFourDetector, new Xoshiro256StarStar(1));
            var detections = new Detection[1];
            byte mask = (byte)(1 << ReceiverLayout.PassiveFourDetector.ChannelFor(basis, bit));
            Assert.Equal(1, passive.Decode([new DetectorClick(7, 100, mask, Basis.Z)], detections));
            Assert.Equal(new Detection(7, basis, (byte)bit), detections[0]);

            var active = new DetectionDecoder(ReceiverLayout.ActiveTwoDetector, new Xoshiro256StarStar(1));
            mask = (byte)(1 << ReceiverLayout.ActiveTwoDetector.ChannelFor(basis, bit));
            Assert.Equal(1, active.Decode([new DetectorClick(9, 100, mask, basis)], detections));
            Assert.Equal(new Detection(9, basis, (byte)bit), detections[0]);
        }
    }

    [Fact]
    public void Double_clicks_in_one_basis_give_a_fair_random_bit()
    {
        var decoder = new DetectionDecoder(ReceiverLayout.PassiveFourDetector, new Xoshiro256StarStar(42));
        const int n = 20000;
        var clicks = Enumerable.Range(0, n).Select(i => new DetectorClick(i, 0, 0b0011, Basis.Z)).ToArray();
        var detections = new Detection[n];
        Assert.Equal(n, decoder.Decode(clicks, detections));
        Assert.All(detections, d => Assert.Equal(Basis.Z, d.Basis));
        int ones = detections.Count(d => d.Bit == 1);
        Assert.InRange(ones, n / 2 - 4 * Math.Sqrt(n / 4.0), n / 2 + 4 * Math.Sqrt(n / 4.0));
        Assert.Equal(n, decoder.MultiClicks);
        Assert.Equal(0, decoder.CrossBasisMultiClicks);
    }

    [Fact]
    public void Cross_basis_multi_clicks_get_a_random_basis_and_are_counted()
    {
        var decoder = new DetectionDecoder(ReceiverLayout.PassiveFourDetector, new Xoshiro256StarStar(3));
        const int n = 20000;
        var clicks = Enumerable.Range(0, n).Select(i => new DetectorClick(i, 0, 0b0101, Basis.Z)).ToArray();
        var detections = new Detection[n];
        decoder.Decode(clicks, detections);
        int z = detections.Count(d => d.Basis == Basis.Z);
        Assert.InRange(z, n / 2 - 4 * Math.Sqrt(n / 4.0), n / 2 + 4 * Math.Sqrt(n / 4.0));
        // Z/0 and X/0 fired, so whichever basis is chosen the bit is 0.
        Assert.All(detections, d => Assert.Equal(0, d.Bit));
        Assert.Equal(n, decoder.CrossBasisMultiClicks);
    }

    [Fact]
    public void Invalid_masks_are_dropped_and_counted_never_decoded()
    {
        var decoder = new DetectionDecoder(ReceiverLayout.ActiveTwoDetector, new Xoshiro256StarStar(3));
        var detections = new Detection[3];
        int written = decoder.Decode([new DetectorClick(1, 0, 0, Basis.Z), new DetectorClick(2, 0, 0b100, Basis.Z), new DetectorClick(3, 0, 1, Basis.X)], detections);
        Assert.Equal(1, written);
        Assert.Equal(new Detection(3, Basis.X, 0), detections[0]);
        Assert.Equal(2, decoder.InvalidClicks);
    }
}

/// <summary>
/// The decoder's branch-free single-click path gives exactly what the former decoder gave (<see cref="Qkd.Reference.ReferenceDetectionDecoder"/>):
/// the same detections, random draws in the same order for multi-clicks, the same counters, on random clicks of both
/// layouts (valid, multi and invalid masks).
/// </summary>
public class DetectionDecoderReferenceTests
{
    [Fact]
    public void Decoding_equals_the_former_decoder()
    {
        Gen.Select(Gen.Byte[0, 31].Array[0, 600], Gen.Bool, Gen.ULong).Sample((masks, active, seed) =>
        {
            var layout = active ? ReceiverLayout.ActiveTwoDetector : ReceiverLayout.PassiveFourDetector;
            var clicks = masks.Select((m, i) => new DetectorClick(3L * i, 10L * i, m, (i & 4) == 0 ? Basis.Z : Basis.X)).ToArray();
            var decoder = new DetectionDecoder(layout, new Xoshiro256StarStar(seed));
            var reference = new Qkd.Reference.ReferenceDetectionDecoder(layout, new Xoshiro256StarStar(seed));
            var got = new Detection[clicks.Length];
            var expected = new Detection[clicks.Length];
            int n = decoder.Decode(clicks, got);
            Assert.Equal(reference.Decode(clicks, expected), n);
            Assert.Equal(expected.AsSpan(0, n).ToArray(), got.AsSpan(0, n).ToArray());
            Assert.Equal(reference.MultiClicks, decoder.MultiClicks);
            Assert.Equal(reference.CrossBasisMultiClicks, decoder.CrossBasisMultiClicks);
            Assert.Equal(reference.InvalidClicks, decoder.InvalidClicks);
        });
    }
}
