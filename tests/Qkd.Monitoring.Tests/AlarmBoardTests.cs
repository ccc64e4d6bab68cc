using Qkd.Monitoring;

namespace Qkd.Monitoring.Tests;

public sealed class AlarmBoardTests
{
    private static LinkAlarm Alarm(AlarmKind kind, bool security, long block = 1) =>
        new(0, kind, "test", security, DateTimeOffset.UnixEpoch, block, "test alarm", 1, 12);

    [Fact]
    public void Raising_and_clearing_update_current_history_and_the_key_hold_and_tell_observers()
    {
        var board = new AlarmBoard(historyLength: 3);
        var seen = new List<AlarmChange>();
        board.Changed += seen.Add;
        board.Changed += _ => throw new InvalidOperationException("a faulty observer");
        var loss = board.Raise(Alarm(AlarmKind.LossStep, security: false));
        Assert.False(board.HoldsKey);
        Assert.Null(board.KeyHoldReason);
        var qber = board.Raise(Alarm(AlarmKind.QberRise, security: true));
        Assert.True(board.HoldsKey);
        Assert.Contains("QberRise", board.KeyHoldReason);
        Assert.Equal([loss.Id, qber.Id], board.Current.Select(a => a.Id));
        var cleared = board.Clear(qber.Id, DateTimeOffset.UnixEpoch.AddSeconds(5), blockId: 9, value: 0.01)!;
        Assert.Equal(9, cleared.ClearedBlockId);
        Assert.False(cleared.IsRaised);
        Assert.Null(board.Clear(qber.Id, DateTimeOffset.UnixEpoch, 10)); // already cleared
        Assert.False(board.HoldsKey);
        Assert.Equal(3, seen.Count);
        Assert.Equal([true, true, false], seen.Select(c => c.Raised));
        board.Raise(Alarm(AlarmKind.Blinding, security: true));
        Assert.Equal(3, board.History.Count); // bounded: the oldest change went
        Assert.Equal(2, board.History[0].Sequence);
        Assert.Equal(3, board.RaisedTotal);
    }

    [Fact]
    public async Task Concurrent_raises_and_clears_from_many_threads_leave_a_consistent_board()
    {
        var board = new AlarmBoard(historyLength: 100_000);
        long changes = 0;
        board.Changed += _ => Interlocked.Increment(ref changes);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(t => Task.Run(() =>
        {
            for (int i = 0; i < 1000; i++)
            {
                var alarm = board.Raise(Alarm((AlarmKind)(i % 9), security: i % 2 == 0, block: i));
                _ = board.HoldsKey;
                _ = board.Current;
                if (i % 3 != 0) board.Clear(alarm.Id, DateTimeOffset.UnixEpoch, i);
            }
        })));
        int raisedLeft = 8 * Enumerable.Range(0, 1000).Count(i => i % 3 == 0);
        Assert.Equal(raisedLeft, board.Current.Count);
        Assert.Equal(8000, board.RaisedTotal);
        Assert.Equal(8000 + 8000 - raisedLeft, Interlocked.Read(ref changes));
        Assert.Equal(board.History.Count, board.Sequence);
        Assert.Equal(board.Current.Count, board.Current.Select(a => a.Id).Distinct().Count());
    }

    [Fact]
    public async Task A_watcher_receives_every_change_after_it_started_watching()
    {
        var board = new AlarmBoard();
        using var stop = new CancellationTokenSource();
        var received = new List<AlarmChange>();
        var started = new TaskCompletionSource();
        var reader = Task.Run(async () =>
        {
            var watch = board.WatchAsync(stop.Token).GetAsyncEnumerator(stop.Token);
            var next = watch.MoveNextAsync(); // subscribes
            started.SetResult();
            try
            {
                while (await next)
                {
                    received.Add(watch.Current);
                    if (received.Count == 2) return;
                    next = watch.MoveNextAsync();
                }
            }
            finally
            {
                await watch.DisposeAsync();
            }
        });
        await started.Task;
        // The reader subscribed in its first MoveNextAsync, before it signalled.
        var first = board.Raise(Alarm(AlarmKind.TimingAnomaly, security: true));
        board.Clear(first.Id, DateTimeOffset.UnixEpoch, 2);
        await reader.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Equal([true, false], received.Select(c => c.Raised));
        Assert.Equal(first.Id, received[1].Alarm.Id);
    }
}
