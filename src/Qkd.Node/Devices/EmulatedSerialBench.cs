using Qkd.Emulation;
using Qkd.Emulation.Firmware;
using Qkd.Emulation.Hosting;
using Qkd.Emulation.TimeTagging;
using Qkd.Protocol.Transport;

namespace Qkd.Node.Devices;

/// <summary>
/// The emulated link's three devices behind real serial ports (Linux pseudo-terminals), described by a
/// <see cref="DeviceBench"/> like any hardware bench. A host that is given <see cref="Bench"/> opens the ports with
/// System.IO.Ports and cannot tell the devices from hardware: the way to try `--bench` tools, the service's hardware
/// path or a HIL hardware target on a machine without devices (<c>qkd emulate --bench-out bench.json</c>).
/// </summary>
/// <remarks>
/// Each pty keeps its own slave end open, so the firmware waits quietly while no host has the port open and a host may
/// close and reopen it, as with a USB-serial device that stays plugged in. Disposing hangs the ports up.
/// </remarks>
public sealed class EmulatedSerialBench : IDisposable
{
    private readonly PseudoTerminal[] _ports;

    /// <param name="baseProfile">The physics the devices start from (the host's settings then act on it).</param>
    /// <param name="taggerOptions">Tagger wiring: channels, cable delays, sync divider.</param>
    /// <param name="seed">Seed of the emulated physics.</param>
    /// <param name="truth">Hidden lab truth (where the light arrives, the optimal phases).</param>
    public EmulatedSerialBench(LinkProfile baseProfile, EmulatedTimeTaggerOptions taggerOptions, ulong seed, EmulatedLabTruth? truth = null)
    {
        Devices = new EmulatedLinkDevices(baseProfile, taggerOptions with { EndPulse = long.MaxValue }, seed) { Truth = truth ?? new EmulatedLabTruth() };
        var ports = new List<PseudoTerminal>(3);
        try
        {
            foreach (FirmwareHost device in new FirmwareHost[] { Devices.Modulator, Devices.Detector, Devices.Tagger })
            {
                var pty = PseudoTerminal.Open();
                ports.Add(pty);
                device.Plug(new StreamFrameTransport(pty.Master, $"{device.SerialNumber} pty master {pty.SlavePath}", ownsStream: false));
            }
        }
        catch
        {
            foreach (var pty in ports) pty.Dispose();
            Devices.Dispose();
            throw;
        }
        _ports = ports.ToArray();
        Bench = new DeviceBench
        {
            Description = $"emulated devices on pseudo-terminals (seed {seed})",
            Modulator = new DeviceAddress { SerialPort = _ports[0].SlavePath },
            Detector = new DeviceAddress { SerialPort = _ports[1].SlavePath },
            Tagger = new DeviceAddress { SerialPort = _ports[2].SlavePath },
            // The firmware shares the host's machine (and, in tests, its process): give replies the time the emulated
            // pseudo-terminal transport gives them (LinkRig.CreateEmulated), not a real device's 500 ms.
            ReplyTimeoutMs = 5_000,
            // Likewise for writes: under CI load the modulator firmware's thread was seen not to read a 229 kB stream
            // frame within the default 2 s; the cut frame then stalled the emission and the session with it.
            WriteTimeoutMs = 30_000,
        };
    }

    /// <summary>The emulated firmware (fault hooks, counters).</summary>
    public EmulatedLinkDevices Devices { get; }

    /// <summary>Where a host finds the devices.</summary>
    public DeviceBench Bench { get; }

    public void Dispose()
    {
        foreach (var pty in _ports) pty.Dispose();
        Devices.Dispose();
    }
}
