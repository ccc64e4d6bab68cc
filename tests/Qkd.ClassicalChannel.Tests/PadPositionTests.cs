using CsCheck;

namespace Qkd.ClassicalChannel.Tests;

/// <summary>The codecs of the channel's v2 frames: the pad position and the header.</summary>
public sealed class PadPositionTests
{
    private static readonly Gen<PadPosition> Positions =
        Gen.Select(Gen.Bool, Gen.Long[0, long.MaxValue], Gen.Long[-1, long.MaxValue], Gen.Long.Array[0, PadPosition.MaxWindow], Gen.Long.Array[0, 200])
            .Select((established, next, accepted, window, pending) =>
                new PadPosition(established, next, accepted, window.Length + Math.Abs(next % 1000), window, pending));

    [Fact]
    public void A_position_reads_back_as_written() =>
        Positions.Sample(p =>
        {
            var bytes = p.ToBytes();
            Assert.Equal(p.EncodedBytes, bytes.Length);
            Assert.True(bytes.Length <= PadPosition.MaxBytes);
            Assert.Equal(p, PadPosition.TryRead(bytes));
        });

    [Fact]
    public void Any_bytes_either_read_as_a_position_or_are_refused_without_throwing() =>
        Gen.Byte.Array[0, 200].Sample(bytes =>
        {
            if (PadPosition.TryRead(bytes) is { } p) Assert.Equal(bytes, p.ToBytes());
        });

    [Fact]
    public void A_cut_or_lengthened_position_is_refused() =>
        Positions.Sample(p =>
        {
            var bytes = p.ToBytes();
            Assert.Null(PadPosition.TryRead(bytes.AsSpan(0, bytes.Length - 1)));
            Assert.Null(PadPosition.TryRead([.. bytes, 0]));
        });

    private static readonly Gen<FrameHeader> Headers =
        Gen.Select(Gen.Enum<FrameType>(), Gen.Enum<ChannelEnd>(), Gen.Byte[0, 7], Gen.Int[0, int.MaxValue], Gen.Long[0, long.MaxValue], Gen.Guid)
            .SelectMany(t => Gen.Select(Gen.ULong, Gen.ULong, Gen.Long[0, long.MaxValue], Gen.Long[0, long.MaxValue], Gen.Enum<ChannelKind>(), Gen.Long[0, long.MaxValue])
                .Select((c, l, seq, ack, channel, epoch) => new FrameHeader(t.Item1, t.Item2, t.Item3, t.Item4, t.Item5, t.Item6, c, l, seq, ack, channel, epoch)));

    [Fact]
    public void A_header_reads_back_as_written_and_another_version_is_refused() =>
        Headers.Sample(h =>
        {
            var bytes = new byte[FrameHeader.Size];
            h.Write(bytes);
            Assert.Equal(h, FrameHeader.TryRead(bytes));
            Assert.Equal(FrameHeader.Version, FrameHeader.VersionOf(bytes));
            bytes[0] = 1; // a peer of the release before channels and epochs
            Assert.Null(FrameHeader.TryRead(bytes));
        });

    [Fact]
    public void Any_header_bytes_either_parse_and_write_back_the_same_or_are_refused() =>
        Gen.Byte.Array[FrameHeader.Size].Sample(bytes =>
        {
            bytes[0] = FrameHeader.Version;
            if (FrameHeader.TryRead(bytes) is { } h)
            {
                var again = new byte[FrameHeader.Size];
                h.Write(again);
                Assert.Equal(bytes, again);
            }
        });
}
