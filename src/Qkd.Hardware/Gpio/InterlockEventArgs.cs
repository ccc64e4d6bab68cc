namespace Qkd.Hardware.Gpio;

/// <summary>An accepted interlock transition.</summary>
/// <param name="state">The new state.</param>
/// <param name="timePs">Host monotonic time of the edge that started the new state, picoseconds.</param>
/// <param name="transitionCount">Accepted transitions so far, this one included.</param>
public sealed class InterlockEventArgs(InterlockState state, long timePs, long transitionCount) : EventArgs
{
    public InterlockState State { get; } = state;
    public long TimePs { get; } = timePs;
    public long TransitionCount { get; } = transitionCount;
}
