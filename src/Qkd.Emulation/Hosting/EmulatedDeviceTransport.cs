namespace Qkd.Emulation.Hosting;

/// <summary>How the host reaches an emulated device.</summary>
public enum EmulatedDeviceTransport
{
    /// <summary>
    /// An in-process duplex stream (Nerdbank.Streams) carrying USB-style transfers (packet framing, as on USB bulk): fast,
    /// for the quick start and most tests.
    /// </summary>
    InProcess,

    /// <summary>
    /// A real pseudo-terminal: the host opens /dev/pts/N with System.IO.Ports exactly as it opens a USB-serial device,
    /// so the serial transport itself is exercised. Slow (a few MB/s), like a real serial line.
    /// </summary>
    PseudoTerminal,
}
