using System.Device.I2c;

namespace Qkd.Emulation.Buses;

/// <summary>
/// An <see cref="I2cDevice"/> that talks to an <see cref="IRegisterMapChip"/> in memory instead of /dev/i2c-N, in the
/// style of dotnet/iot's simulated devices. Records every transaction, and can play an unplugged chip
/// (<see cref="Disconnected"/>): every transfer then fails with <see cref="IOException"/> as the Linux driver does
/// when nothing acknowledges the address.
/// </summary>
public sealed class SimulatedI2cDevice : I2cDevice
{
    private readonly object _gate = new();
    private readonly List<BusTransaction> _transactions = [];
    private bool _disposed;

    public SimulatedI2cDevice(I2cConnectionSettings settings, IRegisterMapChip chip)
    {
        ConnectionSettings = settings ?? throw new ArgumentNullException(nameof(settings));
        Chip = chip ?? throw new ArgumentNullException(nameof(chip));
    }

    public override I2cConnectionSettings ConnectionSettings { get; }

    public IRegisterMapChip Chip { get; }

    /// <summary>When true the chip does not acknowledge its address (unplugged, unpowered, wrong address).</summary>
    public bool Disconnected { get; set; }

    /// <summary>Every transaction so far, in order (a snapshot).</summary>
    public IReadOnlyList<BusTransaction> Transactions
    {
        get { lock (_gate) return _transactions.ToArray(); }
    }

    public void ClearTransactions()
    {
        lock (_gate) _transactions.Clear();
    }

    public override void Read(Span<byte> buffer) => Transfer([], buffer);

    public override void Write(ReadOnlySpan<byte> buffer) => Transfer(buffer, []);

    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer) => Transfer(writeBuffer, readBuffer);

    private void Transfer(ReadOnlySpan<byte> written, Span<byte> read)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (Disconnected)
                throw new IOException($"Simulated I2C bus {ConnectionSettings.BusId}: no acknowledge from address 0x{ConnectionSettings.DeviceAddress:X2} ({Chip.Name} disconnected).");
            try
            {
                Chip.Transfer(written, read);
            }
            finally
            {
                _transactions.Add(new BusTransaction(written.ToArray(), read.ToArray()));
            }
        }
    }

    protected override void Dispose(bool disposing)
    {
        lock (_gate) _disposed = true;
        base.Dispose(disposing);
    }
}
