using System.Net;
using Qkd.Emulation.Fibre;
using Qkd.Emulation.Firmware;
using Qkd.Emulation.Hosting;
using Qkd.Hardware.Modulator;
using Qkd.Protocol;
using Qkd.Hardware.Devices;

namespace Qkd.Node.Devices;

/// <summary>
/// Alice's devices when her node runs on its own with the emulator: an emulated laser modulator reached through its
/// driver, whose light leaves the process down an emulated fibre (a loopback socket) to Bob's node.
/// </summary>
public sealed class EmulatedTransmitter : IDisposable
{
    private EmulatedTransmitter(EmulatedLaserModulatorFirmware firmware, EmulatedDeviceConnector cable, ProtocolLaserModulator modulator, FibreTransmitter fibre)
    {
        Firmware = firmware;
        Cable = cable;
        Modulator = modulator;
        Fibre = fibre;
    }

    public EmulatedLaserModulatorFirmware Firmware { get; }

    public EmulatedDeviceConnector Cable { get; }

    public ILaserModulator Modulator { get; }

    public FibreTransmitter Fibre { get; }

    /// <param name="fibre">Where Bob's node receives the light.</param>
    public static EmulatedTransmitter Create(IPEndPoint fibre, EmulatedDeviceTransport transport = EmulatedDeviceTransport.InProcess, string serialNumber = "MOD-EMU-0001")
    {
        var firmware = new EmulatedLaserModulatorFirmware(serialNumber);
        var cable = EmulatedCable.Create(firmware, transport);
        var modulator = new ProtocolLaserModulator(cable, new DeviceConnectionOptions { ReplyTimeout = TimeSpan.FromSeconds(5) });
        var transmitter = new FibreTransmitter(firmware, fibre);
        return new EmulatedTransmitter(firmware, cable, modulator, transmitter);
    }

    public void Dispose()
    {
        Modulator.Dispose();
        Fibre.Dispose();
        Cable.Dispose();
        Firmware.Dispose();
    }
}
