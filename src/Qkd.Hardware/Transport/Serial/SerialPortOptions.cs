using System.IO.Ports;
using Qkd.Protocol;

namespace Qkd.Hardware.Transport.Serial;

/// <summary>
/// How to open a device's serial port. Defaults suit the QKD firmware (USB CDC-ACM, where baud and parity are
/// ignored by the device but must still be legal for the tty driver).
/// </summary>
/// <param name="PortName">Device path: /dev/ttyACM0, /dev/ttyUSB0, a stable udev link /dev/qkd/detector-SN, or a pty /dev/pts/N.</param>
public sealed record SerialPortOptions(string PortName)
{
    /// <summary>Line speed in baud (bits per second on a real UART).</summary>
    public int BaudRate { get; init; } = 115_200;

    public Parity Parity { get; init; } = Parity.None;

    /// <summary>Must be 8: frames are arbitrary bytes; fewer data bits would cut off their top bits.</summary>
    public int DataBits { get; init; } = 8;

    public StopBits StopBits { get; init; } = StopBits.One;

    /// <summary>
    /// Flow control. None or RequestToSend (hardware RTS/CTS) only: software flow control (XON/XOFF) reserves bytes
    /// 0x11 and 0x13, which COBS-framed binary data contains.
    /// </summary>
    public Handshake Handshake { get; init; } = Handshake.None;

    /// <summary>
    /// Assert DTR when opening. CDC-ACM firmware (TinyUSB's tud_cdc_connected, Arduino's Serial) treats DTR as
    /// "a host has the port open" and may not answer until it is set.
    /// </summary>
    public bool DtrEnable { get; init; } = true;

    /// <summary>
    /// How long a Read waits for the first byte before throwing <see cref="DeviceTimeoutException"/>. Infinite
    /// (the default) blocks until bytes arrive, the transport is disposed, or the device disappears — the usual
    /// choice for a reader thread; request/response timeouts belong to the protocol layer above.
    /// </summary>
    public TimeSpan ReadTimeout { get; init; } = Timeout.InfiniteTimeSpan;

    /// <summary>
    /// How long a Write may take to hand its bytes to the driver before <see cref="DeviceTimeoutException"/>. Must be
    /// finite: with flow control a device that stops reading (or is gone) would block a write forever.
    /// </summary>
    public TimeSpan WriteTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// While a Read waits, how often it checks that the port is still there. System.IO.Ports on Linux does not
    /// always fail a pending read when the device is unplugged; this bounds how long an unplug can go unnoticed.
    /// </summary>
    public TimeSpan LivenessCheckInterval { get; init; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Throws <see cref="ArgumentException"/> listing every invalid setting (all at once, not one per attempt).</summary>
    public void Validate()
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(PortName))
            problems.Add("PortName is empty: give a device path such as /dev/ttyACM0 or /dev/qkd/detector-SN");
        else if (PortName.StartsWith(@"\\", StringComparison.Ordinal))
            problems.Add($"PortName '{PortName}' is a Windows device path; give a /dev path");
        if (BaudRate <= 0)
            problems.Add($"BaudRate {BaudRate} must be positive");
        if (DataBits != 8)
            problems.Add($"DataBits {DataBits} must be 8: binary frames use all 8 bits of every byte");
        if (!Enum.IsDefined(Parity))
            problems.Add($"Parity {(int)Parity} is not a Parity value");
        if (StopBits == StopBits.None || !Enum.IsDefined(StopBits))
            problems.Add($"StopBits {StopBits} is not supported: use One, OnePointFive or Two");
        if (Handshake is Handshake.XOnXOff or Handshake.RequestToSendXOnXOff)
            problems.Add($"Handshake {Handshake} uses XON/XOFF (bytes 0x11/0x13), which binary frames contain: use None or RequestToSend");
        else if (!Enum.IsDefined(Handshake))
            problems.Add($"Handshake {(int)Handshake} is not a Handshake value");
        if (ReadTimeout != Timeout.InfiniteTimeSpan && !IsMilliseconds(ReadTimeout))
            problems.Add($"ReadTimeout {ReadTimeout} must be Timeout.InfiniteTimeSpan or between 1 ms and {int.MaxValue} ms");
        if (!IsMilliseconds(WriteTimeout))
            problems.Add($"WriteTimeout {WriteTimeout} must be between 1 ms and {int.MaxValue} ms (finite: an unplugged port must not block a write forever)");
        if (!IsMilliseconds(LivenessCheckInterval))
            problems.Add($"LivenessCheckInterval {LivenessCheckInterval} must be between 1 ms and {int.MaxValue} ms");
        if (problems.Count > 0)
            throw new ArgumentException($"Invalid serial port options for '{PortName}': {string.Join("; ", problems)}.");
    }

    private static bool IsMilliseconds(TimeSpan t) => t >= TimeSpan.FromMilliseconds(1) && t.TotalMilliseconds <= int.MaxValue;
}
