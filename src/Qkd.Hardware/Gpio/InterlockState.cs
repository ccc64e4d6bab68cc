namespace Qkd.Hardware.Gpio;

/// <summary>State of a safety interlock (e.g. the laser enclosure lid switch).</summary>
public enum InterlockState
{
    /// <summary>Open, or not yet confirmed closed: the laser must not emit.</summary>
    Open = 0,
    /// <summary>Closed and stable for the debounce time.</summary>
    Closed = 1,
}
