using Qkd.Core.Symbols;

namespace Qkd.Emulation.Fibre;

/// <summary>
/// The light source in the receiving process that <see cref="FibreReceiver"/> drives with the light arriving from the
/// transmitter. A node implements it over the physics' modulator firmware reached through the ordinary modulator
/// driver, so the emulated fibre never references the drivers.
/// </summary>
public interface IFibreLightSource
{
    /// <summary>
    /// Sets the source to the light's pulse rate, mean photon numbers and sync divider, emits <paramref name="symbols"/>
    /// from <see cref="FibreLight.FirstPulse"/>, and returns when every symbol is out (the stream ended) and the
    /// emission has stopped.
    /// </summary>
    void Emit(FibreLight light, ISymbolStream symbols, CancellationToken cancellationToken);

    /// <summary>Ends an emission early (the transmitter went away): the physics ends at what arrived.</summary>
    void Stop();
}
