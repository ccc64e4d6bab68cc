using Qkd.Protocol.Transport;

namespace Qkd.Protocol.Transport;

/// <summary>
/// Knows where a device is and opens a fresh transport to it: a serial port path, a USB VID:PID and serial number, or
/// an emulated device. Drivers keep one so that they can reconnect after the device was unplugged and plugged back.
/// </summary>
public interface IDeviceConnector
{
    /// <summary>Where the device is: "/dev/qkd/timetagger-TT-0042", "usb 1209:7d03 SN TT-0042", "emulated tagger (in process)".</summary>
    string Description { get; }

    /// <summary>Opens a new transport to the device.</summary>
    /// <exception cref="DeviceDisconnectedException">The device is not there (yet).</exception>
    /// <exception cref="DeviceException">It is there but cannot be opened (permissions, busy).</exception>
    IFrameTransport Connect();
}
