using Microsoft.Extensions.Logging;
using Qkd.Core;
using Qkd.Core.Symbols;
using Qkd.Distillation;
using Qkd.Distillation.Protocol;
using Qkd.Core.Channel;
using Qkd.Hardware.Modulator;
using Qkd.Node.Link;
using Qkd.Core.Keys;
using Qkd.Protocol;

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
        // A fresh session starts from a stopped modulator: an emission that broke mid-stream (its stop never reached the
        // device) still runs there. Stopping when not emitting is not an error (firmware-protocols/laser-modulator.md).
        StopEmission(session);
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
        using var scope = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        modulator.StartEmission(symbols, 0, endPulse);
        logger.LogInformation("Session {Session}: emitting {Pulses:N0} pulses", session, endPulse);
        // Stopped as soon as every symbol is handed over, so Bob's stream ends where the light does. An emission that
        // fails (a stream write the device never took, a QRNG that turned unhealthy) ends the session at once: Bob's
        // light stops with it, and the distillers would wait for each other for ever.
        var stop = Task.Run(async () =>
        {
            try
            {
                await modulator.StreamingCompletion.ConfigureAwait(false);
            }
            catch (Exception)
            {
                await scope.CancelAsync().ConfigureAwait(false);
                StopEmission(session); // logged, not thrown: the session ends with the emission's fault
                return;
            }
            modulator.StopEmission();
        }, CancellationToken.None);
        string closing;
        try
        {
            closing = await alice.RunAsync(scope.Token).ConfigureAwait(false);
            await stop.WaitAsync(TimeSpan.FromMinutes(5), cancellationToken).ConfigureAwait(false);
            await modulator.StreamingCompletion.ConfigureAwait(false);
        }
        catch (Exception e) when (modulator.StreamingCompletion.IsFaulted && !cancellationToken.IsCancellationRequested)
        {
            // Whatever the distiller threw (cancelled, or its channel closing), the cause is the emission's.
            var fault = modulator.StreamingCompletion.Exception!.GetBaseException();
            logger.LogError("Session {Session}: {Device} failed mid-emission after {Symbols:N0} of {Pulses:N0} symbols: {Error}; the session ends ({Distiller})",
                session, modulator.Name, modulator.SymbolsStreamed, endPulse, fault.Message, e.GetType().Name);
            if (fault is DeviceException device && device.Device != modulator.Name)
                throw new DeviceException(modulator.Name, $"emission of session {session}", device.Message, device);
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(fault);
            throw; // not reached
        }
        finally
        {
            // A session that ends early (Bob went away, the node stops) stops a running emission here; the stop task ends with it.
            if (!modulator.StreamingCompletion.IsCompleted) StopEmission(session);
            try { await stop.ConfigureAwait(false); }
            catch (Exception e) when (e is DeviceException or InvalidOperationException or ObjectDisposedException) { }
        }
        logger.LogInformation("Session {Session} ended: {Closing}; {Bits:N0} secret bits", session, closing, alice.SecretBits);
        return new SessionSummary(session, closing, alice.SecretBits);
    }

    /// <summary>Stops the emission (also after a fault: the device may still run it); a device that does not answer is logged, not thrown.</summary>
    private void StopEmission(long session)
    {
        try
        {
            modulator.StopEmission();
        }
        catch (Exception e) when (e is DeviceException or InvalidOperationException or ObjectDisposedException)
        {
            logger.LogWarning("Session {Session}: stopping the emission of {Device} failed: {Error}", session, modulator.Name, e.Message);
        }
    }
}

/// <summary>How a session ended.</summary>
public sealed record SessionSummary(long Session, string Closing, long SecretBits);
