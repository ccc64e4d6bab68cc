namespace Qkd.Core.Symbols;

/// <summary>
/// Alice's choices, one symbol per pulse index. Alice's distiller looks symbols up by the pulse indices Bob reports;
/// the modulator (or the emulated channel) reads the same symbols when the pulse is sent.
/// </summary>
public interface ISymbolSource
{
    SymbolDistribution Distribution { get; }

    PulseSymbol SymbolAt(long pulseIndex);

    /// <summary>
    /// The symbols of the given pulses, each packed (<see cref="PulseSymbol.Pack"/>) into the byte at the same index:
    /// Alice's distiller looks up a whole sift batch at once. Sources that can look up in bulk override this.
    /// </summary>
    void PackedAt(ReadOnlySpan<long> pulses, Span<byte> packed)
    {
        if (packed.Length < pulses.Length)
            throw new ArgumentException($"{packed.Length} bytes for the symbols of {pulses.Length} pulses.", nameof(packed));
        for (int i = 0; i < pulses.Length; i++)
            packed[i] = SymbolAt(pulses[i]).Pack();
    }

    /// <summary>
    /// Writes the symbols of pulses <c>firstPulse .. firstPulse + 2 * packed.Length - 1</c> two per byte, the earlier
    /// pulse in the low nibble, each nibble a <see cref="PulseSymbol.Pack"/> value: the modulator's stream format.
    /// Sources that can produce symbols in bulk override this.
    /// </summary>
    void FillPacked(long firstPulse, Span<byte> packed)
    {
        for (int i = 0; i < packed.Length; i++)
        {
            long pulse = firstPulse + 2L * i;
            packed[i] = (byte)(SymbolAt(pulse).Pack() | (SymbolAt(pulse + 1).Pack() << 4));
        }
    }
}
