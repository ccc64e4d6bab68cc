namespace Qkd.Protocol.Transport;

/// <summary>How frames are delimited on a transport (see firmware-protocols/framing.md).</summary>
public enum FramingKind
{
    /// <summary>
    /// A byte stream with no message boundaries (serial port, pseudo-terminal, pipe, TCP): every frame is COBS-encoded
    /// and followed by one 0x00 delimiter, so a receiver resynchronises at the next 0x00 after any corruption.
    /// </summary>
    ByteStream,

    /// <summary>
    /// A packet transport that keeps message boundaries (USB bulk): one transfer carries one or more whole frames back
    /// to back, unencoded; a frame never spans two transfers.
    /// </summary>
    Packet,
}
