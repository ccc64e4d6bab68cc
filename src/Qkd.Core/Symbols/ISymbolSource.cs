namespace Qkd.Core.Symbols;

/// <summary>
/// Alice's choices, one symbol per pulse index. Alice's distiller looks symbols up by the pulse indices Bob reports;
/// the modulator (or the emulated channel) reads the same symbols when the pulse is sent.
/// </summary>
public interface ISymbolSource
{
    SymbolDistribution Distribution { get; }

    PulseSymbol SymbolAt(long pulseIndex);
}
