using Microsoft.Extensions.Logging;
using Qkd.Core;
using Qkd.Core.Symbols;
using Qkd.Distillation;
using Qkd.Core.Channel;
using Qkd.Hardware.Modulator;
using Qkd.Node.Link;
using Qkd.Core.Keys;

namespace Qkd.Node.Service;

/// <summary>
/// Alice's side of one session: sets her modulator up from the link settings, emits the session's symbols (under a fresh
/// secret key from the OS CSPRNG, zeroed when the session ends; only with the config's insecureFixedSeed are they seeded,
/// from it and the session number), and answers Bob's distiller, handing finished keys to the pool under
/// session-scoped block IDs.
/// </summary>
public sealed class AliceEnd(NodeConfig config, ILaserModulator modulator, IKeySink pool, ILogger logger)
{
    public async Task<SessionSummary> RunSessionAsync(IClassicalChannel channel, long session, CancellationToken cancellationToken)
    {
        var settings = config.LinkSettings();
        long endPulse = (long)Math.Round(settings.PulseRateHz * config.DurationSeconds);
        using var choices = ChoiceSources.For(settings, config.SessionInsecureSeed(session));
        if (choices.IsSeeded) logger.LogWarning("Session {Session}: insecureFixedSeed is set: {Warning}", session, ChoiceSources.SeededWarning);
        var symbols = choices.Symbols;

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
        var alice = new AliceDistiller(channel, symbols, settings.Distillation(), sink, choices.Distiller, choices.ToeplitzSeeds);
        string closing = await alice.RunAsync(cancellationToken).ConfigureAwait(false);
        await stop.WaitAsync(TimeSpan.FromMinutes(5), cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Session {Session} ended: {Closing}; {Bits:N0} secret bits", session, closing, alice.SecretBits);
        return new SessionSummary(session, closing, alice.SecretBits);
    }
}

/// <summary>How a session ended.</summary>
public sealed record SessionSummary(long Session, string Closing, long SecretBits);
