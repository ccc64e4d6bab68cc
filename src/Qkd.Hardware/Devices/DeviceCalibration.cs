using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using Qkd.Core;
using Qkd.Hardware.Detector;
using Qkd.Hardware.Modulator;

namespace Qkd.Hardware.Devices;

/// <summary>
/// Device settings found by calibration, as `qkd calibrate gate --write-config FILE` and `qkd calibrate alignment
/// --write-config FILE` write them (each updates its own fields and keeps the others'): Bob's detector gate and Alice's
/// modulator phases. Read back by the lab commands (`--config FILE`) and by a node on devices (its "calibration" file),
/// which applies it each time its devices connect. Null fields were never calibrated and are left as the devices have
/// them. Lives beside the drivers because both the lab tools and the node apply it to the same interfaces.
/// </summary>
/// <param name="GateDelayPs">Detector gate delay after the trigger, ps (<c>calibrate gate</c>).</param>
/// <param name="GateWidthPs">The gate width it was found with, ps.</param>
/// <param name="PhaseZRadians">Modulator phase of the Z basis, rad (<c>calibrate alignment --basis Z</c>).</param>
/// <param name="PhaseXRadians">Modulator phase of the X basis, rad.</param>
public sealed record DeviceCalibration(long? GateDelayPs, long? GateWidthPs, double? PhaseZRadians, double? PhaseXRadians)
{
    public static DeviceCalibration Empty { get; } = new(null, null, null, null);

    /// <summary>The phase of <paramref name="basis"/>, or null.</summary>
    public double? Phase(Basis basis) => basis == Basis.Z ? PhaseZRadians : PhaseXRadians;

    /// <summary>This calibration with <paramref name="basis"/>'s phase set.</summary>
    public DeviceCalibration WithPhase(Basis basis, double radians) =>
        basis == Basis.Z ? this with { PhaseZRadians = radians } : this with { PhaseXRadians = radians };

    /// <summary>
    /// Sets what this calibration holds on the devices given (the gate on every head of <paramref name="detector"/>;
    /// the phases on <paramref name="modulator"/>); a null device, or a field never calibrated, is left as it is.
    /// </summary>
    public void ApplyTo(ILaserModulator? modulator, ISinglePhotonDetector? detector)
    {
        if (detector is not null && GateDelayPs is long delay)
        {
            detector.SetGated(true);
            for (int head = 0; head < detector.Heads; head++)
            {
                if (GateWidthPs is long width) detector.SetGateWidthPs(head, width);
                detector.SetGateDelayPs(head, delay);
            }
        }
        if (modulator is null) return;
        if (PhaseZRadians is double z) modulator.SetBasisPhaseRadians(Basis.Z, z);
        if (PhaseXRadians is double x) modulator.SetBasisPhaseRadians(Basis.X, x);
    }

    /// <summary>The file's JSON: camelCase, indented, every field written (null: not calibrated).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, DeviceCalibrationJson.Default.DeviceCalibration);

    /// <summary>Writes the file (creating its folder).</summary>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } folder) Directory.CreateDirectory(folder);
        File.WriteAllText(path, ToJson());
    }

    /// <summary>Reads a calibration file.</summary>
    /// <exception cref="ArgumentException">The file is missing, not a calibration, or holds a value out of range; the message names the file and the field.</exception>
    public static DeviceCalibration Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        if (!File.Exists(path)) throw new ArgumentException($"{path}: the calibration file does not exist.");
        DeviceCalibration? calibration;
        try
        {
            calibration = JsonSerializer.Deserialize(File.ReadAllText(path), DeviceCalibrationJson.Default.DeviceCalibration);
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"{path}: not a calibration file: {e.Message}", e);
        }
        if (calibration is null) throw new ArgumentException($"{path}: the document is null.");
        foreach (var (name, value) in new[] { ("phaseZRadians", calibration.PhaseZRadians), ("phaseXRadians", calibration.PhaseXRadians) })
            if (value is double v && !(Math.Abs(v) <= 2 * Math.PI))
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture, $"{path}: {name} {v} is outside [-2 pi, 2 pi] rad."));
        if (calibration.GateDelayPs is < 0) throw new ArgumentException($"{path}: gateDelayPs must be >= 0 ps.");
        if (calibration.GateWidthPs is <= 0) throw new ArgumentException($"{path}: gateWidthPs must be > 0 ps.");
        return calibration;
    }

    /// <summary>The file's calibration when it exists, else <see cref="Empty"/> (a first --write-config).</summary>
    public static DeviceCalibration LoadOrEmpty(string path) => File.Exists(path) ? Load(path) : Empty;
}
