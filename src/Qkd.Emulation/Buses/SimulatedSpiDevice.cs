using System.Device.Spi;

namespace Qkd.Emulation.Buses;

/// <summary>
/// An <see cref="SpiDevice"/> that clocks frames into an <see cref="IRegisterMapChip"/> in memory instead of
/// /dev/spidevB.C. Each call is one chip-select frame. Records every frame; <see cref="Disconnected"/> makes MISO read
/// all ones (a floating, pulled-up line), which is what an absent SPI chip looks like: SPI has no acknowledge.
/// </summary>
public sealed class SimulatedSpiDevice : SpiDevice
{
    private readonly object _gate = new();
    private readonly List<BusTransaction> _transactions = [];
    private bool _disposed;

    public SimulatedSpiDevice(SpiConnectionSettings settings, IRegisterMapChip chip)
    {
        ConnectionSettings = settings ?? throw new ArgumentNullException(nameof(settings));
        Chip = chip ?? throw new ArgumentNullException(nameof(chip));
    }

    public override SpiConnectionSettings ConnectionSettings { get; }

    public IRegisterMapChip Chip { get; }

    /// <summary>When true the chip ignores frames and MISO reads 0xFF.</summary>
    public bool Disconnected { get; set; }

    public IReadOnlyList<BusTransaction> Transactions
    {
        get { lock (_gate) return _transactions.ToArray(); }
    }

    public void ClearTransactions()
    {
        lock (_gate) _transactions.Clear();
    }

    public override void Read(Span<byte> buffer)
    {
        byte[] zeros = new byte[buffer.Length]; // MOSI idles low during a read
        Frame(zeros, buffer);
    }

    public override void Write(ReadOnlySpan<byte> buffer) => Frame(buffer, []);

    public override void TransferFullDuplex(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        if (writeBuffer.Length != readBuffer.Length)
            throw new ArgumentException($"A full-duplex SPI frame writes and reads the same number of bytes (write {writeBuffer.Length}, read {readBuffer.Length}).", nameof(readBuffer));
        Frame(writeBuffer, readBuffer);
    }

    private void Frame(ReadOnlySpan<byte> written, Span<byte> read)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (Disconnected) read.Fill(0xFF);
            else Chip.Transfer(written, read);
            _transactions.Add(new BusTransaction(written.ToArray(), read.ToArray()));
        }
    }

    protected override void Dispose(bool disposing)
    {
        lock (_gate) _disposed = true;
        base.Dispose(disposing);
    }
}
