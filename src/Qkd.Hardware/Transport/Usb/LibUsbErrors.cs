using Qkd.Protocol;
namespace Qkd.Hardware.Transport.Usb;

/// <summary>
/// Turns libusb status codes (<c>enum libusb_error</c>, negative) and asynchronous transfer statuses
/// (<c>enum libusb_transfer_status</c>) into the driver stack's typed errors: a vanished device becomes
/// <see cref="DeviceDisconnectedException"/> (this is how hot-unplug is detected), a timeout becomes
/// <see cref="DeviceTimeoutException"/>, anything else a <see cref="DeviceException"/> naming libusb's error.
/// </summary>
internal static class LibUsbErrors
{
    public const int Success = 0;
    public const int Io = -1;
    public const int InvalidParam = -2;
    public const int Access = -3;
    public const int NoDevice = -4;
    public const int NotFound = -5;
    public const int Busy = -6;
    public const int Timeout = -7;
    public const int Overflow = -8;
    public const int Pipe = -9;
    public const int Interrupted = -10;
    public const int NoMem = -11;
    public const int NotSupported = -12;
    public const int Other = -99;

    /// <summary>
    /// libusb's symbolic name for a code. Kept here rather than asked of libusb_error_name so that error messages
    /// (and the tests of them) do not depend on the library being loadable.
    /// </summary>
    public static string Name(int code) => code switch
    {
        Success => "LIBUSB_SUCCESS",
        Io => "LIBUSB_ERROR_IO",
        InvalidParam => "LIBUSB_ERROR_INVALID_PARAM",
        Access => "LIBUSB_ERROR_ACCESS",
        NoDevice => "LIBUSB_ERROR_NO_DEVICE",
        NotFound => "LIBUSB_ERROR_NOT_FOUND",
        Busy => "LIBUSB_ERROR_BUSY",
        Timeout => "LIBUSB_ERROR_TIMEOUT",
        Overflow => "LIBUSB_ERROR_OVERFLOW",
        Pipe => "LIBUSB_ERROR_PIPE",
        Interrupted => "LIBUSB_ERROR_INTERRUPTED",
        NoMem => "LIBUSB_ERROR_NO_MEM",
        NotSupported => "LIBUSB_ERROR_NOT_SUPPORTED",
        Other => "LIBUSB_ERROR_OTHER",
        _ => $"libusb error {code}",
    };

    public static string Name(TransferStatus status) => status switch
    {
        TransferStatus.Completed => "LIBUSB_TRANSFER_COMPLETED",
        TransferStatus.Error => "LIBUSB_TRANSFER_ERROR",
        TransferStatus.TimedOut => "LIBUSB_TRANSFER_TIMED_OUT",
        TransferStatus.Cancelled => "LIBUSB_TRANSFER_CANCELLED",
        TransferStatus.Stall => "LIBUSB_TRANSFER_STALL",
        TransferStatus.NoDevice => "LIBUSB_TRANSFER_NO_DEVICE",
        TransferStatus.Overflow => "LIBUSB_TRANSFER_OVERFLOW",
        _ => $"libusb transfer status {(int)status}",
    };

    /// <summary>The error for a failed libusb call; <paramref name="timeout"/> is reported for LIBUSB_ERROR_TIMEOUT.</summary>
    public static DeviceException ToException(int code, string device, string operation, TimeSpan timeout = default) => code switch
    {
        NoDevice => new DeviceDisconnectedException(device, operation, new IOException(Name(code))),
        Timeout => new DeviceTimeoutException(device, operation, timeout),
        _ => new DeviceException(device, operation, $"{Name(code)}{Hint(code)}"),
    };

    /// <summary>The error for an asynchronous transfer that did not complete normally.</summary>
    public static DeviceException ToException(TransferStatus status, string device, string operation, TimeSpan timeout = default) => status switch
    {
        TransferStatus.NoDevice => new DeviceDisconnectedException(device, operation, new IOException(Name(status))),
        TransferStatus.TimedOut => new DeviceTimeoutException(device, operation, timeout),
        TransferStatus.Stall => new DeviceException(device, operation, $"{Name(status)} (the endpoint halted; the firmware rejected the transfer)"),
        TransferStatus.Overflow => new DeviceException(device, operation, $"{Name(status)} (the device sent more than the transfer buffer holds)"),
        _ => new DeviceException(device, operation, Name(status)),
    };

    /// <summary>Throws for negative codes; returns non-negative ones (counts, lengths) unchanged.</summary>
    public static int Check(int code, string device, string operation)
    {
        if (code < 0) throw ToException(code, device, operation);
        return code;
    }

    /// <summary>What the operator can do about the common setup errors.</summary>
    private static string Hint(int code) => code switch
    {
        Access => " (permission denied: install udev-rules/70-qkd.rules and add the service user to group qkd)",
        Busy => " (the interface is claimed by another process or kernel driver)",
        NotFound => " (no such interface or endpoint: wrong firmware?)",
        Pipe => " (the endpoint stalled)",
        _ => "",
    };
}
