namespace Qkd.ClassicalChannel;

/// <summary>
/// Which end of the link a classical channel endpoint is. It fixes the direction of what it sends (carried in every
/// frame header, so a reflected frame is recognised) and its half of the authentication pad: Alice's tags use the
/// even 16-byte chunks of the pad stream, Bob's the odd ones, so the two directions never use the same bits.
/// </summary>
public enum ChannelEnd : byte
{
    Alice = 0,
    Bob = 1,
}
