namespace Qkd.Hardware.Peripherals;

/// <summary>
/// What the node service asks before and during key generation: whether the safety and security monitors allow it
/// (interlock closed, no bright light at the monitor photodiode, the monitor readable), and where it tells the
/// peripherals that a session runs (so the detector gates are enabled only then).
/// </summary>
public interface IKeyGenerationGate
{
    /// <summary>True when key generation may run; otherwise <paramref name="reason"/> says why (for the log and the session's abort).</summary>
    bool MayGenerate(out string reason);

    /// <summary>Raised whenever <see cref="MayGenerate"/> changes, on the thread that saw the change (a GPIO callback or the poller).</summary>
    event EventHandler<KeyGenerationGateEventArgs>? Changed;

    /// <summary>A session starts emitting (Alice) or receiving (Bob).</summary>
    void SessionStarted();

    /// <summary>The session ended (completed or aborted).</summary>
    void SessionEnded();

    /// <summary>Completes when key generation is allowed (at once if it is now).</summary>
    Task WaitUntilAllowedAsync(CancellationToken cancellationToken);
}
