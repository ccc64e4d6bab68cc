using System.Globalization;
using Qkd.Acquisition;
using Qkd.Calibration;
using Qkd.Core;
using Qkd.Core.TimeTags;
using Qkd.Emulation;
using Qkd.Node.Devices;
using Qkd.Node.Link;

namespace Qkd.Lab;

/// <summary>
/// Where the lab's QBER measurements (monitor, alignment sweep) expect each detector's light: the clock recovery that
/// puts every detector tag on the pulse Alice sent. A detector tag arrives one light path (the fibre) plus its input's
/// cable delay after its pulse's sync reference; with a 1 ns pulse period, cable delays of a few ns move every tag by
/// whole pulses and out of the acceptance gate, so a measurement that assumes no cable delay sifts dark counts against
/// the wrong pulses and reads a QBER of 50 % (the bench QBER bug of issue 13). The delays come from the last delay
/// calibration (<c>qkd calibrate delays --write-config</c>, a <see cref="DelayConfiguration"/>) or are measured here,
/// on the rig, from a first emission (the same fit as <c>calibrate delays</c>, whole periods from Alice's vacuum pulses).
/// </summary>
/// <param name="Clock">The clock recovery for the measurement.</param>
/// <param name="Source">Where the delays came from, for the report: the file, or "measured from N pulses".</param>
public sealed record LabReceiverTiming(ClockRecoveryOptions Clock, string Source)
{
    /// <summary>Pulses of the timing emission when the delays are measured (2 ms of a 1 GHz link).</summary>
    public const long DefaultTimingPulses = 2_000_000;

    /// <summary>
    /// Fewest tags per detector channel a measured delay is accepted from: the folded peak and the whole-period
    /// resolution (clicks on Alice's vacuum pulses, about 10 % of pulses under a wrong shift) need a few hundred in-peak
    /// clicks to tell the right shift from the wrong ones by many standard deviations.
    /// </summary>
    public const long MinimumTagsPerDetector = 1_000;

    /// <summary>The clock recovery of the lab's emulated wiring (sync on 0, detectors from 1) for a profile and the link settings, no cable delays.</summary>
    public static ClockRecoveryOptions NominalClock(LinkProfile profile, LinkSettings settings, ushort syncChannel = 0) =>
        EmulatedSetup.ClockRecoveryOptionsFor(profile, settings, EmulatedSetup.TaggerOptionsFor(settings, long.MaxValue) with { SyncChannel = syncChannel });

    /// <summary>
    /// The timing of a delay calibration file: its sync and detector channels and delays, and its light path (older
    /// files without one: the fibre of <paramref name="profile"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The file's detectors do not match the receiver's.</exception>
    public static LabReceiverTiming FromDelays(DelayConfiguration delays, string file, LinkProfile profile, LinkSettings settings)
    {
        ArgumentNullException.ThrowIfNull(delays);
        ArgumentNullException.ThrowIfNull(profile);
        if (delays.DetectorChannels.Length != profile.DetectorCount)
            throw new ArgumentException($"{file}: {delays.DetectorChannels.Length} detector channels, but the receiver has {profile.DetectorCount} detectors.");
        var clock = NominalClock(profile, settings, delays.SyncChannel) with
        {
            DetectorChannels = delays.DetectorChannels.ToArray(),
            DetectorDelaysPs = delays.DetectorDelaysPs.ToArray(),
            PathDelayPs = delays.PathDelayPs ?? profile.FibreDelayPs,
        };
        try
        {
            clock.Validate();
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"{file}: {e.Message}", e);
        }
        return new LabReceiverTiming(clock, file);
    }

    /// <summary>
    /// Measures each detector's delay on <paramref name="rig"/> (configured, detectors seeing the light) from an emission
    /// of <paramref name="pulses"/> pulses, relative to the fibre of <paramref name="profile"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">A detector's delay cannot be trusted (too few tags, no peak, whole periods
    /// not resolved); the message says how many tags there were and how many are needed.</exception>
    public static LabReceiverTiming Measure(LinkRig rig, LinkProfile profile, LinkSettings settings, long pulses, ulong seed,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(rig);
        ArgumentNullException.ThrowIfNull(profile);
        ArgumentNullException.ThrowIfNull(settings);
        var nominal = NominalClock(profile, settings);
        var symbols = EmulatedSetup.AliceSymbols(settings, seed);
        var emission = rig.StartEmission(symbols, pulses);
        TimeTag[] tags;
        int count;
        try
        {
            (tags, count) = LabTagCapture.ReadAll(emission, LabTagCapture.EstimateTags(profile, settings, pulses), cancellationToken);
        }
        catch
        {
            try { rig.Tagger.StopStream(); } catch (Exception) { /* the original failure is the one to report */ }
            throw;
        }
        emission.EmissionStopped.GetAwaiter().GetResult();

        var options = new DelayCalibrationOptions
        {
            SyncChannel = nominal.SyncChannel,
            SyncDivider = settings.PulsesPerSync,
            DetectorChannels = nominal.DetectorChannels,
            PulsePeriodPs = settings.PulsePeriodPs,
            PathDelayPs = profile.FibreDelayPs,
        };
        DelayFit.Result fit;
        try
        {
            fit = DelayFit.Fit(tags.AsSpan(0, count), options, pulse => symbols.IntensityAt(pulse) == Intensity.Vacuum);
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException($"Receiver timing: {e.Message}", e);
        }
        catch (InsufficientDataException e)
        {
            // Placing the light is a precondition of the measurement, not its result: say what to do about it.
            string more = double.IsPositiveInfinity(e.MoreFactor)
                ? "no light reaches at least one detector (is the gate on the light? is the bias on?)"
                : string.Create(CultureInfo.InvariantCulture,
                    $"emit about {Math.Ceiling(e.MoreFactor * pulses):N0} pulses (--timing-pulses) or give the delays of `qkd calibrate delays --write-config` (--delays)");
            throw new InvalidOperationException($"Receiver timing: {string.Join("; ", e.Shortfalls)}: {more}.", e);
        }
        var delays = new long[fit.Detectors.Count];
        for (int d = 0; d < delays.Length; d++)
            delays[d] = (long)Math.Round(Check(fit.Detectors[d], pulses));
        return new LabReceiverTiming(nominal with { DetectorDelaysPs = delays },
            string.Create(CultureInfo.InvariantCulture, $"measured from {pulses:N0} pulses ({string.Join(", ", delays.Select((x, i) => $"channel {nominal.DetectorChannels[i]} {x} ps"))})"));
    }

    /// <summary>The detector's delay, or why it cannot be used.</summary>
    private static double Check(DetectorDelay detector, long pulses)
    {
        long tags = detector.Folded.Tags;
        string more = tags == 0
            ? "no light reaches it (is the gate on the light? is the bias on?)"
            : string.Create(CultureInfo.InvariantCulture,
                $"emit about {Math.Ceiling((double)MinimumTagsPerDetector / tags * pulses):N0} pulses (--timing-pulses) or give the delays of `qkd calibrate delays --write-config` (--delays)");
        if (tags < MinimumTagsPerDetector)
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Receiver timing: channel {detector.Channel} gave {tags:N0} tags in {pulses:N0} pulses, at least {MinimumTagsPerDetector:N0} are needed to place its light: {more}."));
        var whole = detector.WholePeriods;
        // Under the right whole-period shift almost no in-peak click falls on a vacuum pulse; under any other shift the
        // vacuum share of Alice's pulses does. Less than half that contrast: the shift is not known.
        if (detector.DelayPs is not double delay || !(whole.VacuumClickFraction < whole.VacuumClickFractionElsewhere / 2))
            throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture,
                $"Receiver timing: channel {detector.Channel}: the light's whole pulse periods are not resolved ({whole.VacuumClickFraction:P1} of its clicks " +
                $"on vacuum pulses against {whole.VacuumClickFractionElsewhere:P1} under other shifts): check --distance-km (the fibre must be known " +
                $"to within {new DelayCalibrationOptions().MaxWholePeriods} pulse periods) or give --delays."));
        return delay;
    }
}
