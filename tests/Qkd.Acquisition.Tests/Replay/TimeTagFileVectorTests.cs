using Qkd.Acquisition.Replay;
using Qkd.Core.TimeTags;

namespace Qkd.Acquisition.Tests.Replay;

/// <summary>The worked example of firmware-protocols/time-tag-file.md, byte for byte.</summary>
public class TimeTagFileVectorTests
{
    private static readonly TimeTag[] ExampleTags =
    [
        new(1_000_000, 0), new(1_000_250, 1), new(999_900, 1, TimeTagKind.Falling), new(5_000_000, 40),
        new(6_000_000, 0, TimeTagKind.OverflowBegin), new(7_000_000, 0, TimeTagKind.OverflowEnd, 17),
    ];

    private static TimeTagFileHeader ExampleHeader() => new(1,
        [
            new TimeTagChannelDescription(0, "sync", TimeTagChannelRole.Sync),
            new TimeTagChannelDescription(1, "D0", TimeTagChannelRole.Detector, 1250),
            new TimeTagChannelDescription(40, "aux", TimeTagChannelRole.Detector),
        ],
        new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero), [new("site", "lab A")]);

    private static byte[] DocumentBytes() =>
        ProtocolDocumentVectors.HexDump(ProtocolDocumentVectors.Lines(ProtocolDocumentVectors.Document("time-tag-file.md"), "example-file"));

    [Fact]
    public void Writer_produces_the_documented_bytes()
    {
        Assert.Equal(Convert.ToHexString(DocumentBytes()), Convert.ToHexString(TimeTagFileTestData.Write(ExampleHeader(), ExampleTags, 4)));
    }

    [Fact]
    public void Reader_decodes_the_documented_bytes()
    {
        using var reader = new TimeTagFileReader(new MemoryStream(DocumentBytes()), "example.qtt");
        Assert.Equal(ExampleTags, TimeTagFileTestData.ReadAll(reader, 3));
        Assert.Equal(2, reader.ChunksRead);
        Assert.True(reader.TrailerSeen);
        var header = reader.Header;
        Assert.Equal(new DateTimeOffset(2025, 1, 2, 3, 4, 5, TimeSpan.Zero), header.CreatedUtc);
        Assert.Equal(ExampleHeader().Channels, header.Channels);
        Assert.Equal("lab A", header.FindMetadata("site"));
    }
}
