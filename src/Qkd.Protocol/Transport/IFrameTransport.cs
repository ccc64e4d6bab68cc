namespace Qkd.Protocol.Transport;

/// <summary>
/// The link to one device that frames travel over: a serial port, a USB bulk endpoint pair, a pseudo-terminal, an
/// in-process stream to emulated firmware. This is the seam where hardware is swapped for emulation: drivers and the
/// protocol code above it are the same in both.
/// </summary>
/// <remarks>
/// One thread writes and one (other) thread reads; implementations need not support more. Errors that mean the device
/// has gone (unplugged, port closed, stream ended) are thrown as <see cref="DeviceDisconnectedException"/>.
/// </remarks>
public interface IFrameTransport : IDisposable
{
    /// <summary>What this transport is connected to, for logs and errors ("/dev/ttyUSB0", "usb 1-4 1d50:6180 SN TT-0042").</summary>
    string Description { get; }

    /// <summary>How frames are delimited on this transport.</summary>
    FramingKind Framing { get; }

    /// <summary>
    /// The largest single <see cref="Write"/> the transport accepts (one USB transfer); byte streams accept any size.
    /// </summary>
    int MaxWriteLength { get; }

    /// <summary>
    /// Writes already-framed bytes: for <see cref="FramingKind.Packet"/> one call is one transfer and must hold whole
    /// frames only. Blocks until the bytes are handed to the device (or the OS). Callers batch: on a serial port every
    /// call costs about a millisecond whatever its size.
    /// </summary>
    /// <exception cref="DeviceDisconnectedException">The device is gone.</exception>
    /// <exception cref="DeviceTimeoutException">The device did not take the bytes in time.</exception>
    void Write(ReadOnlySpan<byte> data);

    /// <summary>
    /// Blocks until bytes arrive and copies them into <paramref name="buffer"/>: for a byte stream any number of bytes,
    /// for a packet transport exactly one transfer (which must fit). Returns 0 when the transport was disposed or the
    /// peer closed it in an orderly way.
    /// </summary>
    /// <exception cref="DeviceDisconnectedException">The device is gone.</exception>
    int Read(Span<byte> buffer);
}
