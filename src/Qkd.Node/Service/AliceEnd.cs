using Microsoft.Extensions.Logging;
using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Distillation;
using Qkd.Core.Channel;
using Qkd.Hardware.Modulator;
using Qkd.Node.Link;
using Qkd.Core.Keys;

namespace Qkd.Node.Service;

/// <summary>
/// Alice's side of one session: sets her modulator up from the link settings, emits the session's symbols (seeded from the
/// node's seed and the session number, so no session repeats another's), and answers Bob's distiller, handing
/// finished keys to the pool under session-scoped block IDs.
/// </summary>
public sealed class AliceEnd(NodeConfig config, ILaserModulator modulator, IKeySink pool, ILogger logger)
{
    public async Task<SessionSummary> RunSessionAsync(IClassicalChannel channel, long session, CancellationToken cancellationToken)
    {
        var settings = config.LinkSettings();
        long endPulse = (long)Math.Round(settings.PulseRateHz * config.DurationSeconds);
        ulong seed = SplitMix64.Mix(config.Emulator.Seed ^ ((ulong)session * 0x9E3779B97F4A7C15UL));
        var symbols = EmulatedSetup.AliceSymbols(settings, seed);

        if (modulator.State != Hardware.Devices.ConnectionState.Connected) modulator.Connect();
        settings.ConfigureModulator(modulator);
        modulator.StartEmission(symbols, 0, endPulse);
        logger.LogInformation("Session {Session}: emitting {Pulses:N0} pulses", session, endPulse);
        var stop = Task.Run(async () =>
        {
            await modulator.StreamingCompletion.ConfigureAwait(false);
            modulator.StopEmission();
        }, CancellationToken.None);

        var sink = new SessionKeySink(pool, session);
        var alice = new AliceDistiller(channel, symbols, settings.Distillation(), sink,
            Xoshiro256StarStar.ForStream(seed, "alice-distiller"), Xoshiro256StarStar.ForStream(seed, "alice-distiller/toeplitz-seed"));
        string closing = await alice.RunAsync(cancellationToken).ConfigureAwait(false);
        await stop.WaitAsync(TimeSpan.FromMinutes(5), cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Session {Session} ended: {Closing}; {Bits:N0} secret bits", session, closing, alice.SecretBits);
        return new SessionSummary(session, closing, alice.SecretBits);
    }
}

/// <summary>How a session ended.</summary>
public sealed record SessionSummary(long Session, string Closing, long SecretBits);
