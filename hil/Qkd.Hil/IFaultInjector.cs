namespace Qkd.Hil;

/// <summary>
/// The faults the scenarios inflict. On emulated targets the firmware and its "cables" do it; on a hardware bench each
/// fault needs equipment (a USB hub with per-port power switching, a relay in the interlock loop, a line with a noise
/// source), so a hardware injector reports what it cannot do and those scenarios are skipped, saying why.
/// </summary>
public interface IFaultInjector
{
    /// <summary>Null when <paramref name="fault"/> can be injected on this target; otherwise why not.</summary>
    string? Unsupported(Fault fault);

    void UnplugDetector();
    void ReplugDetector();

    /// <summary>The tagger's FIFO overflows: the next <paramref name="tags"/> tags are lost (and reported).</summary>
    void OverflowTagger(long tags);

    void OpenInterlock();
    void CloseInterlock();

    /// <summary>The next <paramref name="frames"/> frames from the tagger are corrupted on the line (CRC errors).</summary>
    void CorruptTaggerLine(int frames);

    void BreakModulatorBiasLock();
}

public enum Fault
{
    UnplugDetector,
    TaggerOverflow,
    Interlock,
    LineCorruption,
    BiasLockLoss,
}
