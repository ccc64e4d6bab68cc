namespace Qkd.Emulation.Buses;

/// <summary>
/// A chip model behind <see cref="SimulatedI2cDevice"/> or <see cref="SimulatedSpiDevice"/>: it sees each bus
/// transaction as the real chip would and answers from its register map, so a binding is tested against the
/// datasheet's protocol rather than against itself.
/// </summary>
/// <remarks>
/// I2C: one transaction to the chip's address. <c>written</c> are the bytes after START + address/W
/// (empty for a plain read); <c>read</c> the bytes the chip sends after (repeated) START + address/R
/// (empty for a plain write). A model refuses bytes it would not acknowledge by throwing <see cref="IOException"/>,
/// which is what the Linux I2C driver does on a NACK.
/// SPI: one chip-select frame. <c>read</c> is empty when the master ignores MISO, otherwise exactly as
/// long as <c>written</c>; byte i of <c>read</c> is shifted out while byte i of
/// <c>written</c> is shifted in. A read-only transfer writes zeros.
/// </remarks>
public interface IRegisterMapChip
{
    /// <summary>The part number, for error messages and logs, e.g. "MCP9808".</summary>
    string Name { get; }

    void Transfer(ReadOnlySpan<byte> written, Span<byte> read);
}
