using Microsoft.Extensions.Logging;
using Qkd.Core;
using Qkd.Core.Symbols;
using Qkd.Distillation;
using Qkd.Distillation.Protocol;
using Qkd.Core.Channel;
using Qkd.Hardware.Modulator;
using Qkd.Node.Link;
using Qkd.Core.Keys;

namespace Qkd.Node.Service;

/// <summary>
/// Alice's side of one session: sets her modulator up from the link settings, announces the emission to Bob and waits
/// until his tagger streams (<see cref="AliceDistiller.AnnounceEmissionAsync"/>), emits the session's symbols (under a fresh
/// secret key from the OS CSPRNG, zeroed when the session ends; only with the config's insecureFixedSeed are they seeded,
/// from it and the session number), and answers Bob's distiller, handing finished keys to the pool under
/// session-scoped block IDs.
/// </summary>
/// <param name="entropy">A QRNG's checked entropy (mixed with the OS CSPRNG) that keys and re-keys the symbols; null: the OS CSPRNG alone.</param>
public sealed class AliceEnd(NodeConfig config, ILaserModulator modulator, IKeySink pool, ILogger logger, Core.Random.IEntropySource? entropy = null)
{
    public async Task<SessionSummary> RunSessionAsync(IClassicalChannel channel, long session, CancellationToken cancellationToken)
    {
        var settings = config.LinkSettings();
        long endPulse = (long)Math.Round(settings.PulseRateHz * config.DurationSeconds);
        using var choices = ChoiceSources.For(settings, config.SessionInsecureSeed(session), entropy, emittedPulses: endPulse);
        if (choices.IsSeeded) logger.LogWarning("Session {Session}: insecureFixedSeed is set: {Warning}", session, ChoiceSources.SeededWarning);
        var symbols = choices.Symbols;

        if (modulator.State != Hardware.Devices.ConnectionState.Connected) modulator.Connect();
        settings.ConfigureModulator(modulator);
        var sink = new SessionKeySink(pool, session);
        // Concurrent stages, as Bob's end: sift requests are answered while a block is being distilled.
        var alice = new AliceDistiller(channel, symbols, settings.Distillation() with { ConcurrentStages = true }, sink, choices.Distiller, choices.ToeplitzSeeds);
        // Bob learns the emission's length here, and answers once his tagger streams: no sync pulse goes out before.
        try
        {
            await alice.AnnounceEmissionAsync(EmissionAgreement.Announce(settings, endPulse), cancellationToken).ConfigureAwait(false);
        }
        catch (ProtocolException e)
        {
            // A refusal (settings that differ) or a peer out of turn: the session cannot run, as with a handshake mismatch.
            throw new InvalidDataException($"Session {session}: {e.Message}", e);
        }
        modulator.StartEmission(symbols, 0, endPulse);
        logger.LogInformation("Session {Session}: emitting {Pulses:N0} pulses", session, endPulse);
        var stop = Task.Run(async () =>
        {
            // Stopped even when the emission fails (a QRNG that turned unhealthy refuses further symbols), so Bob's
            // stream ends and the session closes instead of waiting.
            try
            {
                await modulator.StreamingCompletion.ConfigureAwait(false);
            }
            finally
            {
                modulator.StopEmission();
            }
        }, CancellationToken.None);

        string closing = await alice.RunAsync(cancellationToken).ConfigureAwait(false);
        await stop.WaitAsync(TimeSpan.FromMinutes(5), cancellationToken).ConfigureAwait(false);
        logger.LogInformation("Session {Session} ended: {Closing}; {Bits:N0} secret bits", session, closing, alice.SecretBits);
        return new SessionSummary(session, closing, alice.SecretBits);
    }
}

/// <summary>How a session ended.</summary>
public sealed record SessionSummary(long Session, string Closing, long SecretBits);
