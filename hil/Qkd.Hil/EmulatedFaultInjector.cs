using Qkd.Node.Devices;

namespace Qkd.Hil;

/// <summary>Faults on an emulated rig: through the emulated firmware and the emulated cables.</summary>
public sealed class EmulatedFaultInjector(LinkRig rig) : IFaultInjector
{
    private readonly LinkRig _rig = rig.Emulated is null ? throw new ArgumentException("The rig is not emulated.", nameof(rig)) : rig;

    public string? Unsupported(Fault fault) => null;

    public void UnplugDetector() => _rig.DetectorCable!.Unplug();

    public void ReplugDetector() => _rig.DetectorCable!.Replug();

    public void OverflowTagger(long tags) => _rig.Emulated!.Tagger.InjectOverflow(tags);

    public void OpenInterlock() => _rig.Emulated!.OpenInterlock();

    public void CloseInterlock() => _rig.Emulated!.CloseInterlock();

    public void CorruptTaggerLine(int frames) => _rig.Emulated!.Tagger.CorruptNextFrames(frames);

    public void BreakModulatorBiasLock() => _rig.Emulated!.Modulator.LoseBiasLock();
}
