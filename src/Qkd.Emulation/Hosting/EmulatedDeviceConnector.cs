using Nerdbank.Streams;
using Qkd.Emulation.Firmware;
using Qkd.Protocol;
using Qkd.Protocol.Transport;

namespace Qkd.Emulation.Hosting;

/// <summary>
/// Connects a host driver to emulated firmware the way a cable does: every <see cref="Connect"/> makes a new link (an
/// in-process duplex stream carrying USB-style transfers, or a fresh pseudo-terminal carrying COBS frames as a serial
/// line does), plugs the firmware into its device end and gives the host end
/// to the driver. <see cref="Unplug"/> and <see cref="Replug"/> model pulling the cable: while unplugged, connecting
/// fails with the same typed disconnect a missing USB device gives.
/// </summary>
/// <remarks>
/// Over a pseudo-terminal the host end is a serial port, opened by the caller's <c>openSerialPort</c> (the host's
/// own serial transport from Qkd.Hardware, so that the real System.IO.Ports path runs): emulation hosts the device
/// side and never references the drivers.
/// </remarks>
public sealed class EmulatedDeviceConnector : IDeviceConnector, IDisposable
{
    private readonly Lock _gate = new();
    private PseudoTerminal? _pty;
    private volatile bool _present = true;

    private readonly Func<string, IFrameTransport>? _openSerialPort;

    /// <param name="firmware">The emulated device behind the cable.</param>
    /// <param name="transport">In process, or a pseudo-terminal.</param>
    /// <param name="openSerialPort">Opens the host end of a pseudo-terminal from its path (/dev/pts/N); required for
    /// <see cref="EmulatedDeviceTransport.PseudoTerminal"/>.</param>
    public EmulatedDeviceConnector(FirmwareHost firmware, EmulatedDeviceTransport transport,
        Func<string, IFrameTransport>? openSerialPort = null)
    {
        Firmware = firmware ?? throw new ArgumentNullException(nameof(firmware));
        Transport = transport;
        if (transport == EmulatedDeviceTransport.PseudoTerminal && openSerialPort is null)
            throw new ArgumentException("a pseudo-terminal cable needs the host's serial port opener", nameof(openSerialPort));
        _openSerialPort = openSerialPort;
    }

    public FirmwareHost Firmware { get; }

    public EmulatedDeviceTransport Transport { get; }

    public string Description => Transport == EmulatedDeviceTransport.InProcess
        ? $"emulated {Firmware.DeviceClass} {Firmware.SerialNumber} (in process)"
        : $"emulated {Firmware.DeviceClass} {Firmware.SerialNumber} ({_pty?.SlavePath ?? "pty"})";

    /// <summary>Whether the device is "plugged in" (connecting succeeds).</summary>
    public bool IsPresent => _present;

    public IFrameTransport Connect()
    {
        lock (_gate)
        {
            if (!_present)
                throw new DeviceDisconnectedException($"{Firmware.DeviceClass} {Firmware.SerialNumber}", "connect", null);
            if (Firmware.IsAttached) Firmware.Unplug(); // a reconnecting host drops the old link first, as after a replug
            ClosePty();
            if (Transport == EmulatedDeviceTransport.InProcess)
            {
                // In process the duplex stream carries USB-style transfers, so the packet framing USB uses runs here.
                var (hostEnd, deviceEnd) = FullDuplexStream.CreatePair();
                Firmware.Plug(new PacketStreamTransport(new StreamFrameTransport(deviceEnd, $"{Firmware.SerialNumber} device end")));
                return new PacketStreamTransport(new StreamFrameTransport(hostEnd, Description));
            }
            var pty = PseudoTerminal.Open();
            _pty = pty;
            Firmware.Plug(new StreamFrameTransport(pty.Master, $"{Firmware.SerialNumber} pty master {pty.SlavePath}", ownsStream: false));
            return _openSerialPort!(pty.SlavePath);
        }
    }

    /// <summary>Pulls the cable: the host sees its device vanish and cannot reconnect until <see cref="Replug"/>.</summary>
    public void Unplug()
    {
        lock (_gate)
        {
            _present = false;
            Firmware.Unplug();
            ClosePty();
        }
    }

    /// <summary>Plugs the cable back in; the host's next connect attempt succeeds.</summary>
    public void Replug() => _present = true;

    public void Dispose()
    {
        lock (_gate) ClosePty();
    }

    private void ClosePty()
    {
        _pty?.Dispose();
        _pty = null;
    }
}
