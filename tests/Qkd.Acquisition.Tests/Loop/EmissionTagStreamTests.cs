using Qkd.Core.TimeTags;
using Qkd.Acquisition.Loop;

namespace Qkd.Acquisition.Tests.Loop;

/// <summary>Where an emission's tag stream ends: with the light of its last pulse, whether or not the tagger stops by itself.</summary>
public sealed class EmissionTagStreamTests
{
    /// <summary>
    /// A tagger as real hardware behaves: it streams its tags a few at a time and ends only after StopStream (flushing
    /// what it has); with <c>silentUntilStopped</c> it blocks when it has nothing, as a tagger seeing no light does.
    /// </summary>
    private sealed class ScriptedTagger(IEnumerable<TimeTag> tags, bool endsByItself = false, bool silentUntilStopped = false) : IBufferedTimeTagSource
    {
        private readonly Queue<TimeTag> _tags = new(tags);
        private volatile bool _stopped;
        public int StopCalls;

        public string Name => "scripted tagger";

        public int Buffered => _tags.Count;

        public int BufferCapacity => 1 << 10;

        public long Dropped => 0;

        public void Stop()
        {
            StopCalls++;
            _stopped = true;
        }

        public int Read(Span<TimeTag> destination, CancellationToken cancellationToken = default)
        {
            int n = 0;
            while (n < destination.Length && n < 3 && _tags.Count > 0) destination[n++] = _tags.Dequeue();
            if (n > 0 || _stopped || endsByItself) return n;
            if (!silentUntilStopped) throw new InvalidOperationException("a tagger that never stops ran out of script: the stream was not stopped");
            cancellationToken.WaitHandle.WaitOne(TimeSpan.FromSeconds(30));
            cancellationToken.ThrowIfCancellationRequested();
            return 0;
        }
    }

    private static List<TimeTag> Drain(ITimeTagSource source)
    {
        var all = new List<TimeTag>();
        var buffer = new TimeTag[5];
        int n;
        while ((n = source.Read(buffer, TestContext.Current.CancellationToken)) > 0) all.AddRange(buffer.AsSpan(0, n));
        return all;
    }

    [Fact]
    public void A_tagger_that_never_stops_is_stopped_after_the_light_of_the_last_pulse()
    {
        // 10 pulses of 1000 ps, a sync every 4 pulses (pulses 0, 4, 8), light arriving within 500 ps of its pulse.
        var tags = new List<TimeTag>();
        for (int k = 0; k < 6; k++) tags.Add(new TimeTag(k * 4_000L, 0)); // the sync goes on after the emission
        foreach (long t in new[] { 500L, 3_500, 9_500, 10_400, 10_600, 30_000, 31_000, 32_000 }) tags.Add(new TimeTag(t, 1));
        tags.Sort((a, b) => a.TimePs.CompareTo(b.TimePs));
        var tagger = new ScriptedTagger(tags);
        var stream = new EmissionTagStream(tagger, tagger.Stop, Task.CompletedTask, pulses: 10, syncDivider: 4, syncChannel: 0, pulsePeriodPs: 1000, tailPs: 500);

        var got = Drain(stream);

        // Last sync at 8000 ps (pulse 8); pulses 8 and 9 follow, then 500 ps of light: the emission ends at 10500 ps.
        Assert.Equal(10_500, stream.EndPs);
        Assert.Equal([0L, 500, 3_500, 4_000, 8_000, 9_500, 10_400], got.Select(t => t.TimePs));
        Assert.Equal(1, tagger.StopCalls);
        Assert.True(stream.TagsAfterEnd >= 1);
        Assert.Equal(3, stream.SyncsSeen);
    }

    [Fact]
    public void A_tagger_that_ends_its_stream_itself_is_passed_through_whole()
    {
        var tags = new List<TimeTag> { new(0, 0), new(700, 2), new(4_000, 0), new(4_900, 1) };
        var tagger = new ScriptedTagger(tags, endsByItself: true);
        var stream = new EmissionTagStream(tagger, tagger.Stop, Task.CompletedTask, 8, 4, 0, 1000, 500);

        Assert.Equal(tags, Drain(stream));
        Assert.Equal(0, tagger.StopCalls);
        Assert.Equal(0, stream.TagsAfterEnd);
    }

    [Fact(Timeout = 30_000)]
    public void Lost_sync_tags_end_the_stream_once_no_sync_arrived_for_the_quiet_time()
    {
        // The emission has 3 syncs but the tagger lost two; the count is never reached and the tagger goes silent.
        var tagger = new ScriptedTagger([new(0, 0), new(500, 1), new(4_500, 1)], silentUntilStopped: true);
        var stream = new EmissionTagStream(tagger, tagger.Stop, Task.CompletedTask, 10, 4, 0, 1000, 500)
        {
            QuietTimeout = TimeSpan.FromMilliseconds(50),
        };

        var got = Drain(stream);

        Assert.Equal(3, got.Count);
        Assert.Equal(1, tagger.StopCalls);
        // Only the bound of the first sync: the whole emission after it (with the clock margin), plus the tail.
        Assert.Equal(10 * 1000 + 1 + 500, stream.EndPs);
    }

    [Fact]
    public void Bad_arguments_are_refused_by_name()
    {
        var tagger = new ScriptedTagger([]);
        Assert.Equal("pulses", Assert.Throws<ArgumentOutOfRangeException>(() => new EmissionTagStream(tagger, tagger.Stop, Task.CompletedTask, 0, 4, 0, 1000, 0)).ParamName);
        Assert.Equal("pulsePeriodPs", Assert.Throws<ArgumentOutOfRangeException>(() => new EmissionTagStream(tagger, tagger.Stop, Task.CompletedTask, 1, 4, 0, 0, 0)).ParamName);
    }
}
