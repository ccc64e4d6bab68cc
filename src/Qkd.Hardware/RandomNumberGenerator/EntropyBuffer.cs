using System.Security.Cryptography;

namespace Qkd.Hardware.RandomNumberGenerator;

/// <summary>
/// A fixed circular buffer of checked entropy between the connection's reader thread and the callers of ReadEntropy.
/// Bytes are zeroed as they are read or cleared, so entropy that became key material elsewhere does not linger here.
/// Not thread-safe: the driver guards it with its lock.
/// </summary>
internal sealed class EntropyBuffer(int capacity)
{
    private readonly byte[] _bytes = new byte[capacity];
    private int _head;
    private int _count;

    public int Count => _count;

    /// <summary>Appends what fits; returns how many bytes were taken.</summary>
    public int Write(ReadOnlySpan<byte> data)
    {
        int n = Math.Min(data.Length, _bytes.Length - _count);
        int tail = (_head + _count) % _bytes.Length;
        int first = Math.Min(n, _bytes.Length - tail);
        data[..first].CopyTo(_bytes.AsSpan(tail));
        data[first..n].CopyTo(_bytes);
        _count += n;
        return n;
    }

    /// <summary>Moves up to <paramref name="destination"/>.Length bytes out; returns how many.</summary>
    public int Read(Span<byte> destination)
    {
        int n = Math.Min(destination.Length, _count);
        int first = Math.Min(n, _bytes.Length - _head);
        Span<byte> a = _bytes.AsSpan(_head, first);
        Span<byte> b = _bytes.AsSpan(0, n - first);
        a.CopyTo(destination);
        b.CopyTo(destination[first..]);
        CryptographicOperations.ZeroMemory(a);
        CryptographicOperations.ZeroMemory(b);
        _head = (_head + n) % _bytes.Length;
        _count -= n;
        return n;
    }

    /// <summary>Drops (and zeroes) everything; returns how many bytes were dropped.</summary>
    public int Clear()
    {
        int dropped = _count;
        CryptographicOperations.ZeroMemory(_bytes);
        _head = 0;
        _count = 0;
        return dropped;
    }
}
