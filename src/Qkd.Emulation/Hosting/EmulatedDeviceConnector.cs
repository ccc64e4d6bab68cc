using Nerdbank.Streams;
using Qkd.Emulation.Firmware;
using Qkd.Hardware;
using Qkd.Hardware.Devices;
using Qkd.Hardware.Transport;
using Qkd.Hardware.Transport.Serial;
using Qkd.Hardware.Transport.Streams;

namespace Qkd.Emulation.Hosting;

/// <summary>
/// Connects a host driver to emulated firmware the way a cable does: every <see cref="Connect"/> makes a new link (an
/// in-process duplex stream carrying USB-style transfers, or a fresh pseudo-terminal carrying COBS frames as a serial
/// line does), plugs the firmware into its device end and gives the host end
/// to the driver. <see cref="Unplug"/> and <see cref="Replug"/> model pulling the cable: while unplugged, connecting
/// fails with the same typed disconnect a missing USB device gives.
/// </summary>
public sealed class EmulatedDeviceConnector(FirmwareHost firmware, EmulatedDeviceTransport transport) : IDeviceConnector, IDisposable
{
    private readonly Lock _gate = new();
    private PseudoTerminal? _pty;
    private volatile bool _present = true;

    public FirmwareHost Firmware { get; } = firmware ?? throw new ArgumentNullException(nameof(firmware));

    public EmulatedDeviceTransport Transport { get; } = transport;

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
            return SerialFrameTransport.Open(new SerialPortOptions(pty.SlavePath) { BaudRate = 3_000_000 });
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
