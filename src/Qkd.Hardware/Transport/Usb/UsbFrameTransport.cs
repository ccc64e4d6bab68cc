using Qkd.Protocol.Transport;
using Qkd.Protocol;
namespace Qkd.Hardware.Transport.Usb;

/// <summary>
/// The frame transport to one of our USB devices: interface 0 claimed, frames written as bulk OUT transfers on 0x01
/// and received as bulk IN transfers on 0x81, with several IN transfers kept in flight by a
/// <see cref="UsbBulkReader"/>. Packet framing: a transfer carries whole frames back to back, never part of one.
/// </summary>
public sealed class UsbFrameTransport : IFrameTransport
{
    /// <summary>One bulk transfer: the largest frame (firmware-protocols/framing.md).</summary>
    public const int TransferLength = 65_536;

    /// <summary>How long the device may take to accept a write before <see cref="DeviceTimeoutException"/>.</summary>
    public static readonly TimeSpan DefaultWriteTimeout = TimeSpan.FromSeconds(1);

    private readonly UsbDevice _device;
    private readonly int _transfersInFlight;
    private readonly object _readerGate = new();
    private UsbBulkReader? _reader;
    private bool _disposed;

    private UsbFrameTransport(UsbDevice device, int transfersInFlight, TimeSpan writeTimeout)
    {
        _device = device;
        _transfersInFlight = transfersInFlight;
        WriteTimeout = writeTimeout;
    }

    /// <summary>
    /// Opens a device found by <see cref="UsbEnumerator"/>, claims interface 0 and checks both bulk endpoints exist.
    /// </summary>
    /// <param name="transfersInFlight">Bulk IN transfers kept queued (see <see cref="UsbBulkReader"/>).</param>
    /// <param name="writeTimeout">Per write; default <see cref="DefaultWriteTimeout"/>.</param>
    public static UsbFrameTransport Open(UsbDeviceInfo device, int transfersInFlight = UsbBulkReader.DefaultTransferCount,
        TimeSpan? writeTimeout = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(transfersInFlight, 1);
        var usb = UsbDevice.Open(device);
        try
        {
            // Fails with a clear "no such endpoint" when the firmware is not ours, before anything is sent.
            usb.GetMaxPacketSize(UsbDeviceIds.BulkOutEndpoint);
            usb.GetMaxPacketSize(UsbDeviceIds.BulkInEndpoint);
            usb.ClaimInterface(UsbDeviceIds.Interface);
            return new UsbFrameTransport(usb, transfersInFlight, writeTimeout ?? DefaultWriteTimeout);
        }
        catch
        {
            usb.Dispose();
            throw;
        }
    }

    public string Description => _device.Description;

    public FramingKind Framing => FramingKind.Packet;

    public int MaxWriteLength => TransferLength;

    public TimeSpan WriteTimeout { get; }

    /// <summary>The device this transport talks to (identity, location).</summary>
    public UsbDeviceInfo Device => _device.Info;

    public void Write(ReadOnlySpan<byte> data)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (data.Length > MaxWriteLength)
            throw new ArgumentException($"one USB transfer holds at most {MaxWriteLength} bytes, got {data.Length}", nameof(data));
        _device.BulkWrite(UsbDeviceIds.BulkOutEndpoint, data, WriteTimeout);
    }

    /// <summary>
    /// One completed bulk IN transfer (one or more whole frames); 0 after <see cref="Dispose"/>. The IN transfers
    /// are first queued on the first call, so that nothing is read before the caller is ready to receive it.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="buffer"/> is shorter than <see cref="TransferLength"/>.</exception>
    public int Read(Span<byte> buffer)
    {
        var reader = Reader();
        return reader?.Read(buffer) ?? 0;
    }

    public void Dispose()
    {
        lock (_readerGate)
        {
            if (_disposed) return;
            _disposed = true;
        }

        _reader?.Dispose();
        _device.Dispose();
    }

    private UsbBulkReader? Reader()
    {
        lock (_readerGate)
        {
            if (_disposed) return null;
            return _reader ??= new UsbBulkReader(_device, UsbDeviceIds.BulkInEndpoint, _transfersInFlight, TransferLength);
        }
    }
}
