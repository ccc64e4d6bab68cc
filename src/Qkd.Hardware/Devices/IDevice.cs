using Qkd.Protocol;
using Qkd.Protocol.Messages;

namespace Qkd.Hardware.Devices;

/// <summary>What every device driver offers, whatever its class: identity, status, parameters, reconnection.</summary>
public interface IDevice : IDisposable
{
    /// <summary>"time tagger TT-0042 (/dev/qkd/timetagger-TT-0042)": what errors and logs call it.</summary>
    string Name { get; }

    DeviceClass DeviceClass { get; }

    /// <summary>Who the device said it is when last connected; null before the first connection.</summary>
    DeviceIdentity? Identity { get; }

    ConnectionState State { get; }

    /// <summary>Times the device was reconnected after a disconnect.</summary>
    long Reconnects { get; }

    /// <summary>Raised when the device goes away (on a driver thread).</summary>
    event Action<DeviceDisconnectedException>? Disconnected;

    /// <summary>Raised after a successful reconnect, with settings re-applied.</summary>
    event Action? Reconnected;

    /// <summary>Raised for every event frame the device sends (status changes, overflows, interlock).</summary>
    event Action<DeviceEvent>? EventReceived;

    /// <summary>Opens the device, checks its identity and class, and applies the settings written so far.</summary>
    void Connect();

    /// <summary>After a disconnect: opens the device again, checks it is the same one (serial number) and re-applies settings.</summary>
    void Reconnect();

    DeviceStatus GetStatus();

    /// <summary>Reads a parameter; <paramref name="channel"/> selects the head/level/input for per-channel ones.</summary>
    long GetParameter(ParameterId id, byte channel = 0);

    /// <summary>
    /// Writes a parameter after checking it against <see cref="ParameterCatalog"/> (a bad value is refused before
    /// anything is sent); returns the value in force. Settings written are re-applied after a reconnect.
    /// </summary>
    long SetParameter(ParameterId id, byte channel, long value);

    /// <summary>Connection and protocol counters, for reports and metrics.</summary>
    IReadOnlyDictionary<string, long> Counters { get; }
}
