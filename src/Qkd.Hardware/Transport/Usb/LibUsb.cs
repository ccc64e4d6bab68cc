using System.Runtime.InteropServices;
using Qkd.Protocol;

namespace Qkd.Hardware.Transport.Usb;

/// <summary>
/// The slice of the libusb-1.0 C API this driver stack uses, declared one to one (names and argument order as in
/// libusb.h) so that the libusb documentation applies unchanged. Nothing here throws: every function returns libusb's
/// own status code and the typed wrappers (<see cref="UsbEnumerator"/>, <see cref="UsbDevice"/>,
/// <see cref="UsbBulkReader"/>) turn codes into exceptions through <see cref="LibUsbErrors"/>.
/// </summary>
/// <remarks>
/// The import name is "libusb-1.0"; Debian ships only libusb-1.0.so.0 without the -dev package, so
/// <see cref="LibUsbLibrary"/> resolves the name to the versioned file. Call <see cref="LibUsbLibrary.EnsureLoaded"/>
/// before the first call here so a missing library becomes a clear <see cref="DeviceException"/> and never a raw
/// <see cref="DllNotFoundException"/>. Every pointer is an <see cref="IntPtr"/>-sized handle owned by libusb.
/// </remarks>
internal static unsafe partial class LibUsb
{
    public const string LibraryName = "libusb-1.0";

    public const byte EndpointDirectionIn = 0x80;

    // ---- library and context -------------------------------------------------------------------------------------

    [LibraryImport(LibraryName, EntryPoint = "libusb_init")]
    public static partial int Init(out nint context);

    [LibraryImport(LibraryName, EntryPoint = "libusb_exit")]
    public static partial void Exit(nint context);

    [LibraryImport(LibraryName, EntryPoint = "libusb_error_name")]
    public static partial nint ErrorName(int code);

    // ---- enumeration ---------------------------------------------------------------------------------------------

    /// <summary>Returns the number of devices (or a negative error); <paramref name="list"/> is a NULL-terminated array.</summary>
    [LibraryImport(LibraryName, EntryPoint = "libusb_get_device_list")]
    public static partial nint GetDeviceList(nint context, out nint list);

    [LibraryImport(LibraryName, EntryPoint = "libusb_free_device_list")]
    public static partial void FreeDeviceList(nint list, int unrefDevices);

    [LibraryImport(LibraryName, EntryPoint = "libusb_ref_device")]
    public static partial nint RefDevice(nint device);

    [LibraryImport(LibraryName, EntryPoint = "libusb_unref_device")]
    public static partial void UnrefDevice(nint device);

    /// <summary>Fills the 18-byte device descriptor from libusb's cache (sysfs on Linux); no I/O to the device.</summary>
    [LibraryImport(LibraryName, EntryPoint = "libusb_get_device_descriptor")]
    public static partial int GetDeviceDescriptor(nint device, byte* descriptor18);

    [LibraryImport(LibraryName, EntryPoint = "libusb_get_bus_number")]
    public static partial byte GetBusNumber(nint device);

    [LibraryImport(LibraryName, EntryPoint = "libusb_get_device_address")]
    public static partial byte GetDeviceAddress(nint device);

    /// <summary>Port numbers from the root hub down (USB 3.0 allows at most 7 tiers); returns the count or an error.</summary>
    [LibraryImport(LibraryName, EntryPoint = "libusb_get_port_numbers")]
    public static partial int GetPortNumbers(nint device, byte* portNumbers, int length);

    /// <summary>wMaxPacketSize of an endpoint of the active configuration, or LIBUSB_ERROR_NOT_FOUND.</summary>
    [LibraryImport(LibraryName, EntryPoint = "libusb_get_max_packet_size")]
    public static partial int GetMaxPacketSize(nint device, byte endpoint);

    // ---- device handle -------------------------------------------------------------------------------------------

    [LibraryImport(LibraryName, EntryPoint = "libusb_open")]
    public static partial int Open(nint device, out nint handle);

    /// <summary>The libusb_device behind a handle (not referenced: valid while the handle is open).</summary>
    [LibraryImport(LibraryName, EntryPoint = "libusb_get_device")]
    public static partial nint GetDevice(nint handle);

    [LibraryImport(LibraryName, EntryPoint = "libusb_close")]
    public static partial void Close(nint handle);

    /// <summary>ASCII rendering of a string descriptor (a control transfer to the device); returns length or error.</summary>
    [LibraryImport(LibraryName, EntryPoint = "libusb_get_string_descriptor_ascii")]
    public static partial int GetStringDescriptorAscii(nint handle, byte index, byte* data, int length);

    /// <summary>1 if a kernel driver is bound to the interface, 0 if not, or an error.</summary>
    [LibraryImport(LibraryName, EntryPoint = "libusb_kernel_driver_active")]
    public static partial int KernelDriverActive(nint handle, int interfaceNumber);

    [LibraryImport(LibraryName, EntryPoint = "libusb_detach_kernel_driver")]
    public static partial int DetachKernelDriver(nint handle, int interfaceNumber);

    [LibraryImport(LibraryName, EntryPoint = "libusb_claim_interface")]
    public static partial int ClaimInterface(nint handle, int interfaceNumber);

    [LibraryImport(LibraryName, EntryPoint = "libusb_release_interface")]
    public static partial int ReleaseInterface(nint handle, int interfaceNumber);

    [LibraryImport(LibraryName, EntryPoint = "libusb_clear_halt")]
    public static partial int ClearHalt(nint handle, byte endpoint);

    // ---- synchronous I/O -----------------------------------------------------------------------------------------

    /// <summary>
    /// One bulk transfer; <paramref name="transferred"/> is valid even on LIBUSB_ERROR_TIMEOUT (part may have moved).
    /// A timeout of 0 waits forever.
    /// </summary>
    [LibraryImport(LibraryName, EntryPoint = "libusb_bulk_transfer")]
    public static partial int BulkTransfer(nint handle, byte endpoint, byte* data, int length, out int transferred, uint timeoutMs);

    // ---- asynchronous I/O ----------------------------------------------------------------------------------------

    [LibraryImport(LibraryName, EntryPoint = "libusb_alloc_transfer")]
    public static partial Transfer* AllocTransfer(int isoPackets);

    [LibraryImport(LibraryName, EntryPoint = "libusb_free_transfer")]
    public static partial void FreeTransfer(Transfer* transfer);

    [LibraryImport(LibraryName, EntryPoint = "libusb_submit_transfer")]
    public static partial int SubmitTransfer(Transfer* transfer);

    /// <summary>Asks for cancellation; the callback still runs later, with status <see cref="TransferStatus.Cancelled"/>.</summary>
    [LibraryImport(LibraryName, EntryPoint = "libusb_cancel_transfer")]
    public static partial int CancelTransfer(Transfer* transfer);

    /// <summary>Runs completion callbacks on the calling thread for at most <paramref name="timeout"/>.</summary>
    [LibraryImport(LibraryName, EntryPoint = "libusb_handle_events_timeout_completed")]
    public static partial int HandleEventsTimeoutCompleted(nint context, TimeVal* timeout, int* completed);

    /// <summary>Makes a thread blocked in libusb_handle_events* return early (libusb ≥ 1.0.21).</summary>
    [LibraryImport(LibraryName, EntryPoint = "libusb_interrupt_event_handler")]
    public static partial void InterruptEventHandler(nint context);

    public const byte TransferTypeBulk = 2;

    /// <summary><c>struct libusb_transfer</c> without the trailing ISO packet descriptors (we allocate none).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Transfer
    {
        public nint DeviceHandle;
        public byte Flags;
        public byte Endpoint;
        public byte Type;
        public uint TimeoutMs;
        public TransferStatus Status;
        public int Length;
        public int ActualLength;
        public delegate* unmanaged<Transfer*, void> Callback;
        public nint UserData;
        public byte* Buffer;
        public int NumIsoPackets;
    }

    /// <summary><c>struct timeval</c> on 64-bit Linux (two longs).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct TimeVal
    {
        public long Seconds;
        public long Microseconds;
    }
}

/// <summary><c>enum libusb_transfer_status</c>: how an asynchronous transfer ended.</summary>
internal enum TransferStatus
{
    Completed = 0,
    Error = 1,
    TimedOut = 2,
    Cancelled = 3,
    Stall = 4,
    NoDevice = 5,
    Overflow = 6,
}
