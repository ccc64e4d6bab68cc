using System.Runtime.InteropServices;
using Qkd.Protocol;

namespace Qkd.Hardware.Transport.Usb;

/// <summary>
/// Streams a bulk IN endpoint with several transfers in flight, so the host controller always has a buffer to fill
/// while the previous one is being processed (one transfer at a time leaves the bus idle between transfers and loses
/// throughput, and a device whose FIFO fills meanwhile overflows). Completed transfers are handed out strictly in
/// submission order, each one resubmitted as soon as its data has been copied out.
/// </summary>
/// <remarks>
/// <para>Built on libusb's asynchronous API: libusb_alloc_transfer once per slot at construction (no allocation per
/// transfer afterwards), libusb_submit_transfer, a completion callback run on <see cref="LibUsbContext"/>'s event
/// thread, and libusb_cancel_transfer on dispose. Transfers have no timeout: a stream waits for data as long as it
/// takes; use <see cref="TryRead"/> to bound a wait.</para>
/// <para>Hot-unplug: a transfer that ends with LIBUSB_TRANSFER_NO_DEVICE (or a resubmit that fails with
/// LIBUSB_ERROR_NO_DEVICE) faults the reader; that read and every later one throws
/// <see cref="DeviceDisconnectedException"/>. Dispose it and open the device again after replug.</para>
/// <para>One thread reads; any thread may dispose, which makes a blocked read return 0. The device must outlive the
/// reader.</para>
/// </remarks>
public sealed unsafe class UsbBulkReader : IDisposable
{
    public const int DefaultTransferCount = 4;

    /// <summary>One 64 KiB transfer holds the largest frame (firmware-protocols/framing.md).</summary>
    public const int DefaultTransferLength = 65_536;

    private readonly UsbDevice _device;
    private readonly byte _endpoint;
    private readonly Slot[] _slots;
    private readonly object _gate = new();
    private int _head;
    private bool _stopping;
    private bool _disposed;
    private DeviceException? _fault;

    /// <param name="device">An opened device whose interface holding <paramref name="endpoint"/> is claimed.</param>
    /// <param name="endpoint">A bulk IN endpoint address (bit 7 set).</param>
    /// <param name="transferCount">Transfers kept in flight (4–8 keeps a high-speed bus busy).</param>
    /// <param name="transferLength">Bytes per transfer; a multiple of the max packet size so only the last packet of
    /// a device transfer may be short.</param>
    public UsbBulkReader(UsbDevice device, byte endpoint = UsbDeviceIds.BulkInEndpoint,
        int transferCount = DefaultTransferCount, int transferLength = DefaultTransferLength)
    {
        ArgumentNullException.ThrowIfNull(device);
        if ((endpoint & LibUsb.EndpointDirectionIn) == 0)
            throw new ArgumentException($"endpoint 0x{endpoint:X2} is not an IN endpoint", nameof(endpoint));
        ArgumentOutOfRangeException.ThrowIfLessThan(transferCount, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(transferLength, 1);

        _device = device;
        _endpoint = endpoint;
        TransferLength = transferLength;
        _slots = new Slot[transferCount];
        for (var i = 0; i < transferCount; i++) _slots[i] = new Slot(this, device.Handle, endpoint, transferLength);

        device.Context.StartEvents();
        foreach (var slot in _slots) Submit(slot);
    }

    /// <summary>The size of one transfer: a read buffer must hold at least this much.</summary>
    public int TransferLength { get; }

    /// <summary>Transfers kept in flight.</summary>
    public int TransferCount => _slots.Length;

    /// <summary>
    /// Blocks until the oldest outstanding transfer completes with data, copies it into
    /// <paramref name="destination"/> and returns its length; 0 once the reader is disposed.
    /// </summary>
    /// <exception cref="DeviceDisconnectedException">The device was unplugged.</exception>
    /// <exception cref="DeviceException">The transfer failed (stall, overflow, I/O error).</exception>
    public int Read(Span<byte> destination)
    {
        TryRead(destination, Timeout.InfiniteTimeSpan, out var length);
        return length;
    }

    /// <summary>As <see cref="Read"/>, but gives up after <paramref name="timeout"/> and returns false.</summary>
    public bool TryRead(Span<byte> destination, TimeSpan timeout, out int length)
    {
        if (destination.Length < TransferLength)
            throw new ArgumentException($"the buffer must hold a whole transfer ({TransferLength} bytes)", nameof(destination));

        var deadline = timeout == Timeout.InfiniteTimeSpan ? long.MaxValue : Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        while (true)
        {
            Slot slot;
            lock (_gate)
            {
                while (true)
                {
                    if (_fault is not null) throw _fault;
                    if (_stopping)
                    {
                        length = 0;
                        return true;
                    }

                    slot = _slots[_head];
                    if (slot.State == SlotState.Completed) break;
                    var remaining = deadline == long.MaxValue ? Timeout.Infinite : (int)Math.Max(0, deadline - Environment.TickCount64);
                    if (remaining == 0 || !Monitor.Wait(_gate, remaining))
                    {
                        if (slot.State == SlotState.Completed) break;
                        length = 0;
                        return false;
                    }
                }

                slot.State = SlotState.Consuming;
                _head = (_head + 1) % _slots.Length;
            }

            // The transfer is not in flight, so libusb does not touch its buffer while we copy.
            var status = slot.Transfer->Status;
            var actual = slot.Transfer->ActualLength;
            if (status == TransferStatus.Completed)
            {
                new ReadOnlySpan<byte>(slot.Buffer, actual).CopyTo(destination);
                Submit(slot);
                if (actual == 0) continue; // a zero-length packet ends a device transfer but carries no frame
                length = actual;
                return true;
            }

            lock (_gate)
            {
                slot.State = SlotState.Idle;
                Monitor.PulseAll(_gate);
                if (status == TransferStatus.Cancelled && _stopping)
                {
                    length = 0;
                    return true;
                }

                _fault ??= LibUsbErrors.ToException(status, _device.Description, $"bulk IN from endpoint 0x{_endpoint:X2}");
                throw _fault;
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _stopping = true;
            Monitor.PulseAll(_gate);
        }

        // Cancel until nothing is in flight: a resubmit racing this loop is caught on the next pass. The callback of a
        // cancelled transfer still runs (status CANCELLED) on the event thread, which is why that thread stops last.
        while (true)
        {
            lock (_gate)
            {
                var busy = false;
                foreach (var slot in _slots)
                {
                    if (slot.State is SlotState.InFlight) LibUsb.CancelTransfer(slot.Transfer);
                    busy |= slot.State is SlotState.InFlight or SlotState.Consuming;
                }

                if (!busy) break;
                Monitor.Wait(_gate, 100);
            }
        }

        _device.Context.StopEvents();
        foreach (var slot in _slots) slot.Free();
    }

    private void Submit(Slot slot)
    {
        lock (_gate)
        {
            if (_stopping)
            {
                slot.State = SlotState.Idle;
                Monitor.PulseAll(_gate);
                return;
            }

            slot.State = SlotState.InFlight;
        }

        var code = LibUsb.SubmitTransfer(slot.Transfer);
        if (code >= 0) return;
        lock (_gate)
        {
            slot.State = SlotState.Idle;
            _fault ??= LibUsbErrors.ToException(code, _device.Description, $"submit bulk IN on endpoint 0x{_endpoint:X2}");
            Monitor.PulseAll(_gate);
        }
    }

    private void OnCompleted(Slot slot)
    {
        lock (_gate)
        {
            slot.State = SlotState.Completed;
            Monitor.PulseAll(_gate);
        }
    }

    [UnmanagedCallersOnly]
    private static void OnTransferComplete(LibUsb.Transfer* transfer)
    {
        // Runs on the libusb event thread; an exception must not cross back into C.
        try
        {
            var slot = (Slot)GCHandle.FromIntPtr(transfer->UserData).Target!;
            slot.Reader.OnCompleted(slot);
        }
        catch (Exception e)
        {
            Environment.FailFast("UsbBulkReader completion callback failed", e);
        }
    }

    private enum SlotState
    {
        Idle,
        InFlight,
        Completed,
        Consuming,
    }

    /// <summary>One libusb_transfer with its own native buffer, reused for the reader's lifetime.</summary>
    private sealed class Slot
    {
        private GCHandle _self;

        public Slot(UsbBulkReader reader, nint deviceHandle, byte endpoint, int length)
        {
            Reader = reader;
            Buffer = (byte*)NativeMemory.Alloc((nuint)length);
            Transfer = LibUsb.AllocTransfer(0);
            if (Transfer is null)
            {
                NativeMemory.Free(Buffer);
                throw new OutOfMemoryException("libusb_alloc_transfer failed");
            }

            _self = GCHandle.Alloc(this);
            Transfer->DeviceHandle = deviceHandle;
            Transfer->Endpoint = endpoint;
            Transfer->Type = LibUsb.TransferTypeBulk;
            Transfer->TimeoutMs = 0;
            Transfer->Buffer = Buffer;
            Transfer->Length = length;
            Transfer->Callback = &OnTransferComplete;
            Transfer->UserData = GCHandle.ToIntPtr(_self);
        }

        public UsbBulkReader Reader { get; }
        public LibUsb.Transfer* Transfer { get; private set; }
        public byte* Buffer { get; private set; }
        public SlotState State { get; set; }

        public void Free()
        {
            if (Transfer is null) return;
            LibUsb.FreeTransfer(Transfer);
            NativeMemory.Free(Buffer);
            _self.Free();
            Transfer = null;
            Buffer = null;
        }
    }
}
