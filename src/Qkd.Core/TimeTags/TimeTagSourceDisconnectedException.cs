namespace Qkd.Core.TimeTags;

/// <summary>
/// A tag source lost its device (unplugged, powered off, link down). Not the end of the stream: the reader may call
/// <see cref="ITimeTagSource.Read"/> again later, which tries to reconnect and, once the device is back, goes on with
/// the tags after the gap (marked by an overflow pair). Acquisition counts these and keeps the link alive.
/// </summary>
public sealed class TimeTagSourceDisconnectedException(string source, string cause, Exception? inner = null)
    : IOException($"{source}: disconnected: {cause}", inner)
{
    /// <summary>The device or stream that went away (named so as not to hide <see cref="Exception.Source"/>).</summary>
    public string DeviceSource { get; } = source;
}
