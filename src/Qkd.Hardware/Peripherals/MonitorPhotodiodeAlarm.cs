namespace Qkd.Hardware.Peripherals;

/// <summary>
/// The bright-light alarm on the monitor photodiode, with hysteresis: it trips when a reading exceeds the threshold and
/// clears when one falls to the clear level or below; readings in between keep the state, so a level hovering at the
/// threshold does not flap the gate. Not thread-safe: <see cref="NodePeripherals"/> calls it under its lock.
/// </summary>
public sealed class MonitorPhotodiodeAlarm(double thresholdVolts, double clearVolts)
{
    public double ThresholdVolts { get; } = thresholdVolts;
    public double ClearVolts { get; } = clearVolts;

    public bool IsTripped { get; private set; }

    /// <summary>Times the alarm tripped.</summary>
    public long Trips { get; private set; }

    /// <summary>Feeds one reading; returns +1 when the alarm tripped on it, −1 when it cleared, 0 when nothing changed.</summary>
    public int Observe(double volts)
    {
        if (!IsTripped && volts > ThresholdVolts)
        {
            IsTripped = true;
            Trips++;
            return +1;
        }
        if (IsTripped && volts <= ClearVolts)
        {
            IsTripped = false;
            return -1;
        }
        return 0;
    }
}
