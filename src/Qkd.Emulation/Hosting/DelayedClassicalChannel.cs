using System.Diagnostics;
using System.Threading.Channels;
using Qkd.Core.Channel;

namespace Qkd.Emulation.Hosting;

/// <summary>
/// One end of a classical channel whose messages take <see cref="OneWayDelay"/> to reach the peer, as over a metro or
/// long-haul network: the emulated stand-in for the latency a real link's classical channel has and an in-process pair
/// hides. Sending never waits (the message is copied and queued); one pump per end forwards the messages in order, each
/// once its due time has come, so a burst costs one latency, not one per message, as on a real network.
/// </summary>
/// <remarks>
/// The delay is a lower bound: the runtime's timers add up to a millisecond, more on a loaded machine, which is why a
/// distiller measures the round trip it actually sees (<c>RoundTripProbe</c>) instead of trusting the setting.
/// </remarks>
public sealed class DelayedClassicalChannel : IClassicalChannel, IDisposable
{
    private readonly IClassicalChannel _inner;
    private readonly Channel<(long DueTicks, byte[]? Message)> _queue =
        Channel.CreateUnbounded<(long, byte[]?)>(new UnboundedChannelOptions { SingleReader = true });
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _pump;
    private readonly long _delayTicks;
    private static readonly TimeSpan TimerGranularity = TimeSpan.FromMilliseconds(1);

    /// <param name="inner">The end whose sends are delayed (its receives pass straight through: the peer's wrapper delays those).</param>
    /// <param name="oneWayDelay">Time a message takes to reach the peer (half the round trip), ≥ 0.</param>
    public DelayedClassicalChannel(IClassicalChannel inner, TimeSpan oneWayDelay)
    {
        _inner = inner ?? throw new ArgumentNullException(nameof(inner));
        if (oneWayDelay < TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(oneWayDelay), oneWayDelay, "A delay cannot be negative.");
        OneWayDelay = oneWayDelay;
        _delayTicks = (long)(oneWayDelay.TotalSeconds * Stopwatch.Frequency);
        _pump = Task.Run(PumpAsync);
    }

    /// <summary>Wraps both ends of a pair so that a round trip takes at least <paramref name="roundTrip"/>.</summary>
    public static (DelayedClassicalChannel Alice, DelayedClassicalChannel Bob) Wrap(IClassicalChannel alice, IClassicalChannel bob, TimeSpan roundTrip) =>
        (new DelayedClassicalChannel(alice, roundTrip / 2), new DelayedClassicalChannel(bob, roundTrip / 2));

    public TimeSpan OneWayDelay { get; }

    public ChannelStatistics Statistics => _inner.Statistics;

    public ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        if (!_queue.Writer.TryWrite((Stopwatch.GetTimestamp() + _delayTicks, message.ToArray())))
            throw new ClassicalChannelClosedException($"Classical channel (delayed by {OneWayDelay.TotalMilliseconds} ms) is closed; cannot send a {message.Length}-byte message.");
        return ValueTask.CompletedTask;
    }

    public ValueTask<ReadOnlyMemory<byte>> ReceiveAsync(CancellationToken cancellationToken = default) => _inner.ReceiveAsync(cancellationToken);

    /// <summary>The end of the stream reaches the peer after the messages before it, with the same delay.</summary>
    public void Complete()
    {
        if (_queue.Writer.TryWrite((Stopwatch.GetTimestamp() + _delayTicks, null))) _queue.Writer.TryComplete();
    }

    private async Task PumpAsync()
    {
        try
        {
            await foreach (var (due, message) in _queue.Reader.ReadAllAsync(_stop.Token).ConfigureAwait(false))
            {
                // The runtime's timers count whole milliseconds and may fire up to one early: wait a millisecond more and
                // check again, so that a message never arrives before its time (late is what a network does anyway).
                TimeSpan wait;
                while ((wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), due)) > TimeSpan.Zero)
                    await Task.Delay(wait + TimerGranularity, _stop.Token).ConfigureAwait(false);
                if (message is null)
                {
                    _inner.Complete();
                    return;
                }
                await _inner.SendAsync(message, _stop.Token).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            // Disposed: messages still in flight are lost, as when a network link goes down.
        }
        catch (ClassicalChannelClosedException)
        {
            // The peer closed: what was in flight has nowhere to go.
        }
    }

    /// <summary>Stops the pump; messages still in flight are not delivered.</summary>
    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _stop.Cancel();
        try
        {
            _pump.Wait();
        }
        catch (AggregateException)
        {
        }
        _stop.Dispose();
    }
}
