using System.Diagnostics;
using Qkd.Core.Channel;

namespace Qkd.Core.Diagnostics;

/// <summary>
/// A party's classical channel, timed for its <see cref="StageMeter"/>: a send's time is the channel stage's, a
/// receive's time is waiting on the peer; neither counts to the stage that was open when it happened.
/// </summary>
public sealed class MeteredChannel(IClassicalChannel inner, StageMeter meter) : IClassicalChannel
{
    public ChannelStatistics Statistics => inner.Statistics;

    public async ValueTask SendAsync(ReadOnlyMemory<byte> message, CancellationToken cancellationToken = default)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            await inner.SendAsync(message, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            long ticks = Stopwatch.GetTimestamp() - start;
            meter.AddWait(ticks);
            meter.Times.AddTicks(PipelineStage.Channel, ticks);
        }
    }

    public async ValueTask<ReadOnlyMemory<byte>> ReceiveAsync(CancellationToken cancellationToken = default)
    {
        long start = Stopwatch.GetTimestamp();
        try
        {
            return await inner.ReceiveAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            meter.AddWait(Stopwatch.GetTimestamp() - start);
        }
    }

    public void Complete() => inner.Complete();
}
