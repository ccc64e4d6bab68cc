using Qkd.Core;
using Qkd.Core.Symbols;
using Qkd.Emulation.Fibre;
using Qkd.Hardware.Modulator;

namespace Qkd.Node.Devices;

/// <summary>
/// The emulated fibre's light source in Bob's process: the physics' modulator firmware driven through the ordinary
/// modulator driver, so the light arriving from Alice's node reaches Bob's physics through the same protocol as any
/// modulator.
/// </summary>
public sealed class ModulatorLightSource(ILaserModulator modulator) : IFibreLightSource
{
    public void Emit(FibreLight light, ISymbolStream symbols, CancellationToken cancellationToken)
    {
        modulator.SetPulseRateHz(light.PulseRateHz);
        modulator.SetMeanPhotonNumber(Intensity.Signal, light.SignalMicroPhotons / 1e6);
        modulator.SetMeanPhotonNumber(Intensity.Decoy, light.DecoyMicroPhotons / 1e6);
        modulator.SetMeanPhotonNumber(Intensity.Vacuum, light.VacuumMicroPhotons / 1e6);
        modulator.SetSyncDivider(light.SyncDivider);
        modulator.StartEmission(symbols, light.FirstPulse);
        modulator.StreamingCompletion.Wait(cancellationToken);
        modulator.StopEmission();
    }

    public void Stop() => modulator.StopEmission();
}
