namespace Qkd.Protocol;

/// <summary>
/// A device failed an operation. Every driver error says which device (class and serial number or path), which
/// operation, and why, so that an operator reading a log line knows what to unplug, power-cycle or reconfigure.
/// </summary>
public class DeviceException : Exception
{
    public DeviceException(string device, string operation, string cause, Exception? inner = null)
        : base($"{device}: {operation} failed: {cause}", inner)
    {
        Device = device;
        Operation = operation;
        Cause = cause;
    }

    /// <summary>The device, e.g. "time tagger TT-0042 (/dev/qkd/timetagger-TT-0042)".</summary>
    public string Device { get; }

    /// <summary>The operation that failed, e.g. "set trigger level on channel 3".</summary>
    public string Operation { get; }

    public string Cause { get; }
}

/// <summary>The device did not answer within the allowed time.</summary>
public sealed class DeviceTimeoutException(string device, string operation, TimeSpan timeout)
    : DeviceException(device, operation, $"no reply within {timeout.TotalMilliseconds:F0} ms")
{
    public TimeSpan Timeout { get; } = timeout;
}

/// <summary>The device went away (unplugged, powered off, port closed) during or before the operation.</summary>
public sealed class DeviceDisconnectedException(string device, string operation, Exception? inner = null)
    : DeviceException(device, operation, "the device is disconnected", inner);
