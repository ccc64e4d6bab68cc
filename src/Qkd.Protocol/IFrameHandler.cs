namespace Qkd.Protocol;

/// <summary>
/// Receives the frames a decoder accepts. Called synchronously on the decoding thread with spans into the decoder's
/// buffer: copy what must outlive the call. (An interface rather than a delegate so that a struct or a sealed class
/// handler is called without allocation.)
/// </summary>
public interface IFrameHandler
{
    void OnFrame(in FrameHeader header, ReadOnlySpan<byte> payload);
}
