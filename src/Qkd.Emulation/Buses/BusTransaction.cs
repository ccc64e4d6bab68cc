namespace Qkd.Emulation.Buses;

/// <summary>One recorded bus transaction: what the master wrote and what it read back (either may be empty).</summary>
public sealed record BusTransaction(byte[] Written, byte[] Read)
{
    public override string ToString() => $"W[{Convert.ToHexString(Written)}] R[{Convert.ToHexString(Read)}]";
}
