namespace Qkd.Core.Symbols;

/// <summary>
/// Symbols that arrive in order and whose end is not known in advance (a fibre bringing light from another process, a
/// live QRNG): read in chunks, packed two per byte as <see cref="ISymbolSource.FillPacked"/> writes them.
/// </summary>
public interface ISymbolStream
{
    /// <summary>
    /// Fills <paramref name="packed"/> with the symbols of pulses from <paramref name="firstPulse"/> on (two per byte);
    /// returns the bytes written, at least one unless the stream has ended (then 0). Blocks until symbols arrive.
    /// </summary>
    int ReadPacked(long firstPulse, Span<byte> packed, CancellationToken cancellationToken = default);
}
