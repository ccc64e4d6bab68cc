namespace Qkd.Hardware.Devices;

public enum ConnectionState
{
    /// <summary>Never connected, or closed by the owner.</summary>
    Closed,
    Connected,

    /// <summary>The device went away; the driver reconnects when asked (or on the next operation).</summary>
    Disconnected,
}
