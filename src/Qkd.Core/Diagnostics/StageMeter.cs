using System.Diagnostics;

namespace Qkd.Core.Diagnostics;

/// <summary>
/// One party's clock on its stages (one flow of control at a time, like a distiller): <see cref="Switch"/> closes the
/// open stage and opens another, <see cref="Stop"/> closes it. Time the party spends waiting on its peer or handing a
/// message to the channel (<see cref="AddWait"/>, counted by <see cref="MeteredChannel"/>) while a stage is open is
/// taken off that stage, so a stage's time is its own code's, even across awaits.
/// </summary>
public sealed class StageMeter(StageTimes times)
{
    private long _waitTicks, _openedAt, _waitAtOpen;
    private PipelineStage? _open;

    public StageTimes Times { get; } = times;

    /// <summary>Closes the open stage (if any) and opens <paramref name="stage"/>.</summary>
    public void Switch(PipelineStage stage)
    {
        long now = Stopwatch.GetTimestamp();
        Close(now);
        _open = stage;
        _openedAt = now;
        _waitAtOpen = Interlocked.Read(ref _waitTicks);
    }

    /// <summary>Closes the open stage, adding its time.</summary>
    public void Stop() => Close(Stopwatch.GetTimestamp());

    /// <summary>
    /// Ticks spent waiting (on a reply, or handing a message to the channel): not any open stage's. Atomic: a party's
    /// concurrent calls on its channel may add at once.
    /// </summary>
    public void AddWait(long ticks) => Interlocked.Add(ref _waitTicks, ticks);

    private void Close(long now)
    {
        if (_open is PipelineStage open)
            Times.AddTicks(open, now - _openedAt - (Interlocked.Read(ref _waitTicks) - _waitAtOpen));
        _open = null;
    }
}
