using CsCheck;
using Qkd.Distillation.Messages;
using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Tests.Messages;

public class SiftResponseTests
{
    private static readonly Gen<(bool Kept, byte Intensity)[]> Responses = Gen.Select(Gen.Bool, Gen.Byte[0, 2]).Array[0, 300];

    private static SiftResponse Read(byte[] message, int capacity) =>
        SiftResponse.Read(message, new byte[capacity], new byte[capacity]);

    [Fact]
    public void Round_trips_and_refuses_every_truncation()
    {
        Gen.Select(Responses, Gen.Int[0, 5]).Sample((detections, spare) =>
        {
            byte[] kept = detections.Select(d => d.Kept ? (byte)1 : (byte)0).ToArray();
            byte[] intensities = detections.Select(d => d.Intensity).ToArray();
            byte[] message = new SiftResponse(kept, intensities).Write(new ProtocolWriter()).ToArray();

            // The receiver's buffers may be longer than the batch (they are reused); the response views their start.
            var keptBuffer = new byte[kept.Length + spare];
            var back = SiftResponse.Read(message, keptBuffer, new byte[kept.Length + spare]);
            Assert.Equal(kept, back.Kept.ToArray());
            Assert.Equal(intensities, back.Intensities.ToArray());
            if (kept.Length > 0) Assert.True(back.Kept.Span.Overlaps(keptBuffer));

            WireChecks.MalformedIsRejected(message, SiftResponse.Type, m => Read(m, kept.Length));
        });
    }

    [Fact]
    public void Wire_format_is_pinned()
    {
        // 5 flags 1 0 1 1 0 packed LSB first (0D); 5 classes 0 1 2 2 1 packed two bits each (A4 01).
        var message = new SiftResponse(new byte[] { 1, 0, 1, 1, 0 }, new byte[] { 0, 1, 2, 2, 1 }).Write(new ProtocolWriter());
        Assert.Equal("02050D05A401", WireChecks.Hex(message));
    }

    public static TheoryData<string, int, string> Malformed => new()
    {
        // 3 flags for a batch of 2
        { "0203050300", 2, "Field 'kept flags count' is 3, more than the allowed 2" },
        // 2 flags but 1 class
        { "0202010100", 2, "has 2 kept flags but 1 intensity classes" },
        // class 3 does not exist
        { "0201010103", 1, "names intensity class 3" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_responses_are_refused_with_the_reason(string hex, int batch, string expected)
    {
        var e = Assert.Throws<ProtocolException>(() => Read(Convert.FromHexString(hex), batch));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Writer_refuses_values_the_packing_would_change()
    {
        Assert.Throws<ArgumentException>(() => new SiftResponse(new byte[] { 2 }, new byte[] { 0 }));
        Assert.Throws<ArgumentException>(() => new SiftResponse(new byte[] { 1 }, new byte[] { 3 }));
        Assert.Throws<ArgumentException>(() => new SiftResponse(new byte[] { 1, 0 }, new byte[] { 0 }));
    }
}
