using System.Reflection;
using System.Runtime.InteropServices;
using System.Runtime.Loader;
using Qkd.Protocol;

namespace Qkd.Hardware.Transport.Usb;

/// <summary>
/// Finds and loads the libusb-1.0 shared library once per process. The runtime's own probing looks for
/// "libusb-1.0.so", which only the -dev package installs; the runtime package installs "libusb-1.0.so.0". A
/// <see cref="AssemblyLoadContext.ResolvingUnmanagedDll"/> handler (several may coexist, unlike a per-assembly
/// DllImportResolver) maps the import name to the first file that loads.
/// </summary>
internal static class LibUsbLibrary
{
    /// <summary>What an operator must do when the library is missing; part of the exception message.</summary>
    public const string NotInstalledCause = "libusb-1.0 is not installed (apt install libusb-1.0-0)";

    /// <summary>Versioned names first: that is what distributions install without development headers.</summary>
    public static readonly IReadOnlyList<string> Candidates =
        ["libusb-1.0.so.0", "libusb-1.0.so", "libusb-1.0.0.dylib", "libusb-1.0.dylib", "libusb-1.0.dll", "libusb-1.0"];

    private static readonly object Gate = new();
    private static nint _handle;

    /// <summary>Loads libusb or throws a <see cref="DeviceException"/> that says how to install it.</summary>
    /// <param name="operation">What the caller was about to do, for the error message.</param>
    public static void EnsureLoaded(string operation)
    {
        lock (Gate)
        {
            if (_handle != 0) return;
            _handle = Load(Candidates, operation);
            AssemblyLoadContext.Default.ResolvingUnmanagedDll += Resolve;
        }
    }

    /// <summary>Loads the first candidate that exists; separate from the cached path so tests can pass absent names.</summary>
    internal static nint Load(IReadOnlyList<string> candidates, string operation)
    {
        foreach (var name in candidates)
        {
            if (NativeLibrary.TryLoad(name, out var handle)) return handle;
        }

        throw new DeviceException("libusb", operation, NotInstalledCause);
    }

    private static nint Resolve(Assembly assembly, string libraryName)
    {
        if (libraryName != LibUsb.LibraryName || assembly != typeof(LibUsbLibrary).Assembly) return 0;
        return _handle;
    }
}
