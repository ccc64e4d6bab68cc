using Qkd.Core.Random;
using Qkd.Protocol;
using Qkd.Protocol.Messages;

namespace Qkd.Hardware.RandomNumberGenerator;

/// <summary>
/// Whether a random number generator's output may be used, as its driver sees it: the state of the host's own
/// SP 800-90B section 4.4 tests on every sample delivered, combined with the device's own health flags.
/// </summary>
/// <param name="State">
/// <see cref="EntropyHealthState.Starting"/>: start-up testing, no entropy yet (after connecting, each stream start, a
/// reconnect, or a failure the device reported and then cleared). <see cref="EntropyHealthState.Healthy"/>: entropy is
/// handed out. <see cref="EntropyHealthState.Failed"/>: a host test tripped (<paramref name="TestFailure"/>) or the
/// device reports a failure (<paramref name="DeviceFlags"/>); nothing is handed out until the source passes again.
/// </param>
/// <param name="TestFailure">The host test that failed while the host's tests have not recovered from it; null otherwise.</param>
/// <param name="DeviceFlags">The device's own health flags as it last reported them.</param>
public sealed record EntropySourceHealth(EntropyHealthState State, HealthTestFailure? TestFailure, RngHealthFlags DeviceFlags)
{
    public bool IsHealthy => State == EntropyHealthState.Healthy;

    /// <summary>The device itself reports a failure (continuous test or source fault): it sends nothing.</summary>
    public bool DeviceFailing => (DeviceFlags & RngHealthReport.FailureFlags) != 0;

    public override string ToString() => State switch
    {
        EntropyHealthState.Healthy => "healthy",
        EntropyHealthState.Starting => "start-up testing",
        _ when TestFailure is { } failure => $"failed the host's {failure}",
        _ when (DeviceFlags & RngHealthFlags.SourceFault) != 0 => "the device reports a noise source fault",
        _ when (DeviceFlags & RngHealthFlags.ContinuousTestFailure) != 0 => "the device reports a failed continuous health test",
        _ => "failed",
    };
}

/// <summary>
/// <see cref="IRandomNumberGenerator.ReadEntropy"/> refused: the source is failing its health tests (or the device
/// reports a failure), so no entropy is handed out. <see cref="Health"/> says which test or flag.
/// </summary>
public sealed class EntropySourceFailedException(string device, string operation, EntropySourceHealth health)
    : DeviceException(device, operation, $"the entropy source is not healthy ({health}); no entropy is handed out until it passes its health tests again")
{
    public EntropySourceHealth Health { get; } = health;
}
