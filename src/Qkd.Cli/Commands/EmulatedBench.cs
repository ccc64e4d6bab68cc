using Qkd.Emulation;
using Qkd.Emulation.Firmware;
using Qkd.Emulation.TimeTagging;

namespace Qkd.Cli.Commands;

/// <summary>
/// The emulated lab bench the lab commands run on with --emulator: cable delays, where the light arrives in the gate,
/// which phase settings align the bases. A lab engineer does not know these; the commands must find them.
/// </summary>
public static class EmulatedBench
{
    public static readonly EmulatedLabTruth Truth = new(LightArrivalPs: 31_700, OptimalPhaseMilliradians: [600, -200]);

    public static readonly long[] DetectorDelaysPs = [1_234, 2_345, 3_456, 4_567];

    public static EmulatedTimeTaggerOptions TaggerOptions => new() { DetectorDelaysPs = DetectorDelaysPs };

    public static LinkProfile Profile(double distanceKm) => LinkProfile.Default.WithDistance(distanceKm);

    /// <summary>The bench's detectors, noisy enough to calibrate in a second of pulses.</summary>
    public static LinkProfile DetectorProfile => LinkProfile.Default with
    {
        DarkCountProbabilityPerPulse = 1e-5, AfterpulseProbability = 0.05, AfterpulseDecayPs = 50_000, DeadTimePs = 50_000, DetectorEfficiency = 0.2,
    };
}
