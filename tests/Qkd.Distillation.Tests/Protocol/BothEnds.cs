using Qkd.Core;
using Qkd.Core.Channel;

namespace Qkd.Distillation.Tests.Protocol;

/// <summary>
/// Runs Alice's and Bob's distillers against each other over their channels: Alice on a task, Bob sifting the given
/// detections and finishing. Whichever end fails closes its side, so the other end's wait ends instead of hanging.
/// </summary>
internal static class BothEnds
{
    public static async Task<(Exception? Alice, Exception? Bob)> RunAsync(AliceDistiller alice, IClassicalChannel aliceChannel,
        BobDistiller bob, IClassicalChannel bobChannel, ReadOnlyMemory<Detection> detections, CancellationToken ct)
    {
        var aliceTask = Task.Run(async () =>
        {
            try { await alice.RunAsync(ct); return null; }
            catch (Exception e) { return e; }
            finally { aliceChannel.Complete(); }
        }, ct);
        Exception? bobError = null;
        try
        {
            await bob.SiftAsync(detections, ct);
            await bob.FinishAsync(ct);
        }
        catch (Exception e)
        {
            bobError = e;
        }
        finally
        {
            bobChannel.Complete();
        }
        return (await aliceTask, bobError);
    }
}
