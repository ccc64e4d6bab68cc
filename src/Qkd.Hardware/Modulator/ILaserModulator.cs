using Qkd.Core;
using Qkd.Core.Symbols;
using Qkd.Hardware.Devices;
using Qkd.Protocol.Messages;

namespace Qkd.Hardware.Modulator;

/// <summary>
/// Alice's transmitter: a pulsed laser with intensity (signal/decoy/vacuum) and phase/polarisation modulators driven
/// from a stream of symbols, plus the sync output Bob's tagger locks to.
/// </summary>
public interface ILaserModulator : IDevice
{
    void SetPulseRateHz(long pulseRateHz);

    /// <summary>Calibrated mean photon number per pulse of an intensity level.</summary>
    void SetMeanPhotonNumber(Intensity level, double meanPhotonNumber);

    double GetMeanPhotonNumber(Intensity level);

    /// <summary>One sync output pulse every <paramref name="divider"/> laser pulses; the first marks pulse 0.</summary>
    void SetSyncDivider(int divider);

    /// <summary>Phase (polarisation) offset of a basis, radians: what QBER alignment tunes.</summary>
    void SetBasisPhaseRadians(Basis basis, double radians);

    /// <summary>The intensity modulator's bias control loop is locked (as last reported).</summary>
    bool BiasLocked { get; }

    /// <summary>
    /// Starts emitting: pulses <paramref name="firstPulse"/> .. <paramref name="endPulse"/> - 1 get their symbols from
    /// <paramref name="symbols"/> (Alice's emission log), streamed to the device on a background thread. The device
    /// sends vacuum for any pulse whose symbol did not arrive in time, and counts it.
    /// </summary>
    void StartEmission(ISymbolSource symbols, long firstPulse, long endPulse);

    /// <summary>
    /// Starts emitting symbols that arrive as a stream (e.g. light from a fibre, a live QRNG): emission ends when the
    /// stream ends; <see cref="StreamingCompletion"/> completes then.
    /// </summary>
    void StartEmission(ISymbolStream symbols, long firstPulse);

    /// <summary>Completes when every symbol up to the end pulse has been handed to the transport (or streaming failed).</summary>
    Task StreamingCompletion { get; }

    /// <summary>Symbols handed to the transport so far.</summary>
    long SymbolsStreamed { get; }

    /// <summary>Stops emission (after the device used the symbols it already has) and reports what it consumed.</summary>
    StreamSummary StopEmission();
}
