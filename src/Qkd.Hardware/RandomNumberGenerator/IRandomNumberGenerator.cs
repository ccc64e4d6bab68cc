using Qkd.Core.Random;
using Qkd.Hardware.Devices;
using Qkd.Protocol.Messages;

namespace Qkd.Hardware.RandomNumberGenerator;

/// <summary>
/// A quantum random number generator: streams entropy, which the driver checks with the continuous health tests of
/// NIST SP 800-90B section 4.4 on every sample before it hands any out. Consumers take checked entropy with
/// <see cref="ReadEntropy"/> and watch <see cref="Health"/> (or <see cref="HealthChanged"/>,
/// <see cref="WaitForHealthAsync"/>); a failing source never yields entropy.
/// </summary>
public interface IRandomNumberGenerator : IDevice
{
    /// <summary>The claim the host's health tests check the output against (sample kind, H, α, recovery).</summary>
    EntropyHealthOptions HealthOptions { get; }

    /// <summary>Entropy bytes per block on the wire (RngBlockSizeBytes, 16 .. 65 512).</summary>
    int GetBlockSizeBytes();

    void SetBlockSizeBytes(int bytes);

    /// <summary>Most bytes per second the device produces (RngRateLimitBytesPerSecond, 1 000 .. 10^9).</summary>
    long GetRateLimitBytesPerSecond();

    void SetRateLimitBytesPerSecond(long bytesPerSecond);

    /// <summary>The cutoffs of the device's own tests on its raw bits (RngRepetitionCutoffSamples, RngProportionCutoffSamples).</summary>
    void SetDeviceHealthCutoffs(int repetitionCutoff, int proportionCutoff);

    /// <summary>Starts the entropy stream; the host's tests start afresh (start-up testing) with it.</summary>
    void StartStream();

    /// <summary>Stops the stream and reports what the device sent; entropy already checked stays readable.</summary>
    StreamSummary StopStream();

    bool IsStreaming { get; }

    /// <summary>
    /// Fills <paramref name="destination"/> with checked entropy: bytes every sample of which passed the host's health
    /// tests while the source was healthy. Blocks until enough has arrived (during start-up testing too). Either the
    /// whole span is filled, or the call throws and the span is zeroed. No allocation.
    /// </summary>
    /// <exception cref="EntropySourceFailedException">The source is failing (a host test or the device); nothing is handed out.</exception>
    /// <exception cref="InvalidOperationException">No stream is running and not enough checked entropy is left.</exception>
    /// <exception cref="Qkd.Protocol.DeviceDisconnectedException">The device went away; the next call reconnects.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    void ReadEntropy(Span<byte> destination, CancellationToken cancellationToken = default);

    /// <summary>The source's health now.</summary>
    EntropySourceHealth Health { get; }

    /// <summary>Raised when <see cref="Health"/>'s state or the device's flags change, on a driver thread (keep handlers short).</summary>
    event Action<EntropySourceHealth>? HealthChanged;

    /// <summary>Completes with the health as soon as its state is <paramref name="state"/> (at once if it already is).</summary>
    Task<EntropySourceHealth> WaitForHealthAsync(EntropyHealthState state, CancellationToken cancellationToken = default);

    /// <summary>Asks the device for its own health flags and test counters (RngGetHealth).</summary>
    RngHealthReport ReadDeviceHealth();

    /// <summary>Blocks, losses, discards and test failures of the stream.</summary>
    RandomNumberGeneratorCounters StreamCounters { get; }
}
