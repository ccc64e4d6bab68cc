using Qkd.Protocol;
namespace Qkd.Hardware.Devices;

/// <summary>
/// Takes the stream frames (flag Stream) a connection receives, on the connection's reader thread, in arrival order.
/// The payload span is only valid during the call.
/// </summary>
public interface IStreamReceiver
{
    void OnStreamFrame(in FrameHeader header, ReadOnlySpan<byte> payload);
}
