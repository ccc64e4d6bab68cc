namespace Qkd.Core;

/// <summary>
/// One detection event at Bob as the receiver hardware reports it, before any interpretation:
/// which detector channels fired in which pulse slot, and when (Bob's clock).
/// </summary>
/// <param name="PulseIndex">Pulse slot the click belongs to (index of Alice's pulse).</param>
/// <param name="TimePs">Arrival time on Bob's clock, picoseconds.</param>
/// <param name="ChannelMask">Bit d set when detector channel d fired (up to 8 channels). More than one bit is a multi-click.</param>
/// <param name="ActiveBasis">For receivers with an active basis modulator, the basis Bob's modulator was set to; ignored by passive receivers.</param>
public readonly record struct DetectorClick(long PulseIndex, long TimePs, byte ChannelMask, Basis ActiveBasis);
