namespace Qkd.Hil;

/// <summary>
/// A hardware bench without fault equipment: every fault is unsupported, with the equipment it would need named, so a
/// fault scenario is skipped with that reason rather than passing vacuously.
/// </summary>
public sealed class HardwareFaultInjector(string target) : IFaultInjector
{
    public string? Unsupported(Fault fault) => fault switch
    {
        Fault.UnplugDetector => $"target {target}: unplugging the detector needs a USB hub with per-port power switching (not configured)",
        Fault.TaggerOverflow => $"target {target}: forcing a tagger overflow needs its test signal above the USB bandwidth (not configured)",
        Fault.Interlock => $"target {target}: opening the interlock needs a relay in the interlock loop driven from GPIO (not configured)",
        Fault.LineCorruption => $"target {target}: CRC errors need a noise source on the serial line (not configured)",
        Fault.BiasLockLoss => $"target {target}: breaking the bias lock needs the modulator's bias DAC under test control (not configured)",
        _ => $"target {target}: {fault} is not supported",
    };

    public void UnplugDetector() => throw new NotSupportedException(Unsupported(Fault.UnplugDetector));
    public void ReplugDetector() => throw new NotSupportedException(Unsupported(Fault.UnplugDetector));
    public void OverflowTagger(long tags) => throw new NotSupportedException(Unsupported(Fault.TaggerOverflow));
    public void OpenInterlock() => throw new NotSupportedException(Unsupported(Fault.Interlock));
    public void CloseInterlock() => throw new NotSupportedException(Unsupported(Fault.Interlock));
    public void CorruptTaggerLine(int frames) => throw new NotSupportedException(Unsupported(Fault.LineCorruption));
    public void BreakModulatorBiasLock() => throw new NotSupportedException(Unsupported(Fault.BiasLockLoss));
}
