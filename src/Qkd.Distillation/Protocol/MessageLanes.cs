using Qkd.Core.Channel;

namespace Qkd.Distillation.Protocol;

/// <summary>
/// One classical channel seen as two: the sifting lane and the block lane, so that an end can sift batch n+1 while it
/// corrects block n (<see cref="DistillationOptions.ConcurrentStages"/>). The wire protocol does not change: every
/// message already says what it is, and each lane is a strict request/reply sequence of its own, so a received
/// message belongs to the lane its type names (<see cref="IsSiftLane"/>) and each lane sees its messages in the order
/// they were sent. Sends from both lanes go out one at a time (the channel under them takes one writer).
/// </summary>
/// <remarks>
/// No thread of its own: a lane that wants a message and finds none queued reads the channel itself (one lane at a
/// time) and queues what belongs to the other lane (copied: a channel may reuse its buffer on the next receive). A lane
/// that finds the other one reading waits until that one stops, then takes its queued message or reads in turn, so
/// neither can wait on the channel while a message for the other sits unclaimed.
/// </remarks>
internal sealed class MessageLanes
{
    private readonly IClassicalChannel _inner;
    private readonly SemaphoreSlim _sending = new(1, 1);
    // Under _gate: each lane's messages read by the other, whether a lane is reading the channel, and the signal that
    // wakes a lane waiting for either to change.
    private readonly Lock _gate = new();
    private readonly Queue<byte[]>[] _queued = [new(), new()];
    private bool _reading;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public MessageLanes(IClassicalChannel inner)
    {
        _inner = inner ?? throw new ArgumentNullException(nameof(inner));
        Sift = new Lane(this, 0);
        Block = new Lane(this, 1);
    }

    /// <summary>Sift requests and replies, and the pilot's (frame synchronisation comes before sifting).</summary>
    public IClassicalChannel Sift { get; }

    /// <summary>Everything else: the session's opening and close, and every step of a block.</summary>
    public IClassicalChannel Block { get; }

    /// <summary>Whether a message of this type travels on the sifting lane.</summary>
    public static bool IsSiftLane(MessageType type) => type is MessageType.SiftRequest or MessageType.SiftResponse
        or MessageType.PilotRequest or MessageType.PilotDisclosure;

    private static int LaneOf(ReadOnlySpan<byte> message) => IsSiftLane(ProtocolReader.PeekType(message)) ? 0 : 1;

    private async ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken)
    {
        await _sending.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            await _inner.SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _sending.Release();
        }
    }

    private async ValueTask<ReadOnlyMemory<byte>> ReceiveAsync(int lane, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task? changed = null;
            lock (_gate)
            {
                if (_queued[lane].TryDequeue(out var queued)) return queued;
                if (!_reading)
                    _reading = true;
                else
                    changed = _changed.Task;
            }
            // Whether this lane reads is decided under the gate, never by looking at the signal afterwards: the reader
            // can complete it in between, and a lane that then read without owning the channel would be a second
            // reader (a single-reader channel cancels the first one's read, which ended a session; issue 14).
            if (changed is not null)
            {
                // The other lane is reading: it queues this lane's messages, and hands over when it stops reading.
                await changed.WaitAsync(cancellationToken).ConfigureAwait(false);
                continue;
            }
            try
            {
                var message = await _inner.ReceiveAsync(cancellationToken).ConfigureAwait(false);
                int owner = LaneOf(message.Span);
                if (owner == lane) return message;
                lock (_gate) _queued[owner].Enqueue(message.ToArray());
            }
            finally
            {
                TaskCompletionSource wake;
                lock (_gate)
                {
                    _reading = false;
                    wake = _changed;
                    _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
                wake.TrySetResult();
            }
        }
    }

    private sealed class Lane(MessageLanes lanes, int index) : IClassicalChannel
    {
        public ChannelStatistics Statistics => lanes._inner.Statistics;

        public ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default) =>
            lanes.SendAsync(message, cancellationToken);

        public ValueTask<ReadOnlyMemory<byte>> ReceiveAsync(CancellationToken cancellationToken = default) =>
            lanes.ReceiveAsync(index, cancellationToken);

        public void Complete() => lanes._inner.Complete();
    }
}
