using Qkd.Acquisition.Replay;
using Qkd.Core.TimeTags;

namespace Qkd.Acquisition.Tests.Replay;

internal static class TimeTagFileTestData
{
    public static TimeTagFileHeader Header(uint resolutionPs = 1) => new(
        resolutionPs,
        [
            new TimeTagChannelDescription(0, "sync", TimeTagChannelRole.Sync),
            new TimeTagChannelDescription(1, "D0 H", TimeTagChannelRole.Detector, 1250),
            new TimeTagChannelDescription(2, "D1 V", TimeTagChannelRole.Detector, -40),
        ],
        new DateTimeOffset(2025, 6, 1, 12, 0, 0, TimeSpan.Zero),
        [new("fibre", "25 km SMF-28"), new("operator", "Jürgen")]);

    public static byte[] Write(TimeTagFileHeader header, ReadOnlySpan<TimeTag> tags, int tagsPerChunk)
    {
        var stream = new MemoryStream();
        using (var writer = new TimeTagFileWriter(stream, header, tagsPerChunk, leaveOpen: true))
            writer.Write(tags);
        return stream.ToArray();
    }

    /// <summary>Drains a source in batches of <paramref name="batch"/> tags.</summary>
    public static List<TimeTag> ReadAll(ITimeTagSource source, int batch = 1000)
    {
        var buffer = new TimeTag[batch];
        var all = new List<TimeTag>();
        int n;
        while ((n = source.Read(buffer)) > 0) all.AddRange(buffer.AsSpan(0, n));
        return all;
    }

    /// <summary>A detector-like stream: sync every 1000 ps slot-ish, clicks on channels 1-2, deterministic.</summary>
    public static TimeTag[] Stream(int count, int seed)
    {
        var random = new Random(seed);
        var tags = new TimeTag[count];
        long t = 1_000_000;
        for (int i = 0; i < count; i++)
        {
            t += random.Next(1, 200_000);
            tags[i] = new TimeTag(t, (ushort)random.Next(0, 3), random.Next(50) == 0 ? TimeTagKind.Falling : TimeTagKind.Rising);
        }
        return tags;
    }
}
