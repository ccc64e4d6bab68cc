using Qkd.Protocol;

namespace Qkd.Hardware.Transport.Usb;

/// <summary>
/// The process-wide libusb context (libusb_init/libusb_exit), shared by every enumerator, device and reader and
/// reference-counted so that the last user closes it. It also owns the one event thread that asynchronous transfers
/// need: libusb runs completion callbacks only inside libusb_handle_events*, so while any <see cref="UsbBulkReader"/>
/// is active a dedicated thread sits in libusb_handle_events_timeout_completed. Synchronous transfers handle their
/// own events and coexist with it (libusb serialises event handling internally).
/// </summary>
internal sealed unsafe class LibUsbContext
{
    private static readonly object Gate = new();
    private static LibUsbContext? _shared;

    private readonly nint _handle;
    private int _references;
    private int _eventUsers;
    private Thread? _eventThread;
    private volatile bool _stopEvents;

    private LibUsbContext(nint handle) => _handle = handle;

    public nint Handle => _handle;

    /// <summary>Takes a reference to the shared context, creating it on first use. Pair with <see cref="Release"/>.</summary>
    /// <exception cref="DeviceException">libusb is not installed or cannot initialise.</exception>
    public static LibUsbContext Acquire(string operation)
    {
        LibUsbLibrary.EnsureLoaded(operation);
        lock (Gate)
        {
            if (_shared is null)
            {
                var code = LibUsb.Init(out var handle);
                if (code < 0) throw LibUsbErrors.ToException(code, "libusb", operation);
                _shared = new LibUsbContext(handle);
            }

            _shared._references++;
            return _shared;
        }
    }

    public void Release()
    {
        lock (Gate)
        {
            if (--_references > 0) return;
            StopEventThreadLocked();
            LibUsb.Exit(_handle);
            if (ReferenceEquals(_shared, this)) _shared = null;
        }
    }

    /// <summary>Starts the event thread if no other reader has; pair with <see cref="StopEvents"/>.</summary>
    public void StartEvents()
    {
        lock (Gate)
        {
            if (_eventUsers++ > 0) return;
            _stopEvents = false;
            _eventThread = new Thread(RunEvents) { IsBackground = true, Name = "libusb events" };
            _eventThread.Start();
        }
    }

    /// <summary>Stops the event thread when the last reader no longer needs it.</summary>
    public void StopEvents()
    {
        lock (Gate)
        {
            if (--_eventUsers > 0) return;
            StopEventThreadLocked();
        }
    }

    private void StopEventThreadLocked()
    {
        if (_eventThread is null) return;
        _stopEvents = true;
        LibUsb.InterruptEventHandler(_handle);
        _eventThread.Join();
        _eventThread = null;
        _eventUsers = 0;
    }

    private void RunEvents()
    {
        // 100 ms bounds how long a stop waits if the interrupt races the thread entering libusb.
        var timeout = new LibUsb.TimeVal { Seconds = 0, Microseconds = 100_000 };
        while (!_stopEvents)
        {
            var completed = 0;
            LibUsb.HandleEventsTimeoutCompleted(_handle, &timeout, &completed);
        }
    }
}
