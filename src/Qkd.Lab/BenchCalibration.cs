using System.Globalization;
using System.Text.Json;
using Qkd.Core;
using Qkd.Node.Devices;

namespace Qkd.Lab;

/// <summary>
/// The device settings the lab's sweeps found, as written by <c>qkd calibrate gate --write-config FILE</c> and
/// <c>qkd calibrate alignment --write-config FILE</c> (each updates its own fields and keeps the others'), and read back
/// with <c>--config FILE</c> by the alignment sweep (the other basis's phase, the gate) and the monitor (all of them).
/// Null fields were never calibrated and are left as the devices have them.
/// </summary>
/// <param name="GateDelayPs">Detector gate delay after the trigger, ps (<c>calibrate gate</c>).</param>
/// <param name="GateWidthPs">The gate width it was found with, ps.</param>
/// <param name="PhaseZRadians">Modulator phase of the Z basis, rad (<c>calibrate alignment --basis Z</c>).</param>
/// <param name="PhaseXRadians">Modulator phase of the X basis, rad.</param>
public sealed record BenchCalibration(long? GateDelayPs, long? GateWidthPs, double? PhaseZRadians, double? PhaseXRadians)
{
    public static BenchCalibration Empty { get; } = new(null, null, null, null);

    /// <summary>The phase of <paramref name="basis"/>, or null.</summary>
    public double? Phase(Basis basis) => basis == Basis.Z ? PhaseZRadians : PhaseXRadians;

    /// <summary>This calibration with <paramref name="basis"/>'s phase set.</summary>
    public BenchCalibration WithPhase(Basis basis, double radians) =>
        basis == Basis.Z ? this with { PhaseZRadians = radians } : this with { PhaseXRadians = radians };

    /// <summary>Sets what this calibration holds on the rig's devices (gate on every head; phases); the rest is left as it is.</summary>
    public void ApplyTo(LinkRig rig)
    {
        ArgumentNullException.ThrowIfNull(rig);
        if (GateDelayPs is long delay)
        {
            rig.Detector.SetGated(true);
            for (int head = 0; head < rig.Detector.Heads; head++)
            {
                if (GateWidthPs is long width) rig.Detector.SetGateWidthPs(head, width);
                rig.Detector.SetGateDelayPs(head, delay);
            }
        }
        if (PhaseZRadians is double z) rig.Modulator.SetBasisPhaseRadians(Basis.Z, z);
        if (PhaseXRadians is double x) rig.Modulator.SetBasisPhaseRadians(Basis.X, x);
    }

    /// <summary>Writes the file (creating its folder).</summary>
    public void Save(string path) => LabReport.Write(this, path);

    /// <summary>Reads a calibration file.</summary>
    /// <exception cref="ArgumentException">The file is missing or not a bench calibration; the message names it and the problem.</exception>
    public static BenchCalibration Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new ArgumentException($"{path}: the bench calibration file does not exist.");
        BenchCalibration? calibration;
        try
        {
            calibration = JsonSerializer.Deserialize(File.ReadAllText(path), LabJson.Default.BenchCalibration);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{path}: not a bench calibration: {e.Message}", e);
        }
        if (calibration is null) throw new ArgumentException($"{path}: the document is null.");
        foreach (var (name, value) in new[] { ("phaseZRadians", calibration.PhaseZRadians), ("phaseXRadians", calibration.PhaseXRadians) })
            if (value is double v && !(Math.Abs(v) <= 2 * Math.PI))
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{path}: {name} {v} is outside [-2 pi, 2 pi] rad."));
        if (calibration.GateDelayPs is < 0 || calibration.GateWidthPs is <= 0)
            throw new ArgumentException($"{path}: gateDelayPs must be >= 0 and gateWidthPs > 0 ps.");
        return calibration;
    }

    /// <summary>The file's calibration when it exists, else <see cref="Empty"/> (a first --write-config).</summary>
    public static BenchCalibration LoadOrEmpty(string path) => File.Exists(path) ? Load(path) : Empty;
}
