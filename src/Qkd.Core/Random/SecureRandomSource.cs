using System.Runtime.InteropServices;
using System.Security.Cryptography;

namespace Qkd.Core.Random;

/// <summary>
/// The random source for choices an eavesdropper must not predict (Bob's multi-click assignment, verification hash
/// keys, Toeplitz seeds): the ChaCha20 keystream (counter mode, RFC 8439 block function) under a 256-bit key drawn
/// fresh from the operating system's CSPRNG (<see cref="RandomNumberGenerator"/>) for every instance. The key and the
/// buffered keystream live in pinned arrays (so the GC never leaves copies behind) and are zeroed on
/// <see cref="Dispose"/>; using the source afterwards throws. Not thread-safe, like the seeded sources.
/// </summary>
public sealed class SecureRandomSource : IRandomSource, IDisposable
{
    /// <summary>Keeps this keystream apart from any other use of the same key (there is none: the key is fresh).</summary>
    private const ulong Nonce = 0x52414E444F4D0001UL; // "RANDOM" + 1

    private const int BufferWords = ChaCha20.WideBlocks * ChaCha20.BlockWords;

    private readonly uint[] _key = GC.AllocateArray<uint>(ChaCha20.KeyWords, pinned: true);
    private readonly uint[] _buffer = GC.AllocateArray<uint>(BufferWords, pinned: true);
    private ulong _counter;
    private int _position = BufferWords;
    private bool _disposed;

    public SecureRandomSource() => RandomNumberGenerator.Fill(MemoryMarshal.AsBytes(_key.AsSpan()));

    private SecureRandomSource(IEntropySource entropy) => entropy.FillKeyMaterial(MemoryMarshal.AsBytes(_key.AsSpan()));

    /// <summary>
    /// A source keyed with 256 bits of <paramref name="entropy"/>'s key material (a QRNG mixed with the OS CSPRNG)
    /// instead of the OS CSPRNG alone.
    /// </summary>
    /// <exception cref="EntropySourceUnavailableException">The entropy source is not healthy.</exception>
    public static SecureRandomSource FromEntropy(IEntropySource entropy)
    {
        ArgumentNullException.ThrowIfNull(entropy);
        return new SecureRandomSource(entropy);
    }

    public ulong NextUInt64()
    {
        if (_position > BufferWords - 2) Refill();
        ulong value = _buffer[_position] | ((ulong)_buffer[_position + 1] << 32);
        // Words handed out leave the buffer: a later memory disclosure cannot recover past outputs from it.
        _buffer[_position] = 0;
        _buffer[_position + 1] = 0;
        _position += 2;
        return value;
    }

    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Whole 512-byte keystream chunks go straight into the destination; the rest through the buffer.</summary>
    public void Fill(Span<byte> destination)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        const int chunkBytes = BufferWords * sizeof(uint);
        // Use up what is buffered first, so every keystream word is used at most once.
        while (destination.Length >= 8 && _position <= BufferWords - 2)
        {
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(destination, NextUInt64());
            destination = destination[8..];
        }
        while (destination.Length >= chunkBytes)
        {
            var words = MemoryMarshal.Cast<byte, uint>(destination[..chunkBytes]);
            ChaCha20.Blocks8(_key, _counter, Nonce, words);
            if (!BitConverter.IsLittleEndian)
                for (int i = 0; i < words.Length; i++) words[i] = System.Buffers.Binary.BinaryPrimitives.ReverseEndianness(words[i]);
            _counter += ChaCha20.WideBlocks;
            destination = destination[chunkBytes..];
        }
        for (; destination.Length >= 8; destination = destination[8..])
            System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(destination, NextUInt64());
        if (destination.Length > 0)
        {
            ulong last = NextUInt64();
            for (int i = 0; i < destination.Length; i++, last >>= 8) destination[i] = (byte)last;
        }
    }

    private void Refill()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ChaCha20.Blocks8(_key, _counter, Nonce, _buffer);
        _counter += ChaCha20.WideBlocks;
        _position = 0;
    }

    /// <summary>For the tests: whether the key and the buffered keystream are all zero (as they are after <see cref="Dispose"/>).</summary>
    internal bool KeyMaterialIsZero => !_key.AsSpan().ContainsAnyExcept(0u) && !_buffer.AsSpan().ContainsAnyExcept(0u);

    public void Dispose()
    {
        _disposed = true;
        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(_key.AsSpan()));
        CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(_buffer.AsSpan()));
        _position = BufferWords;
    }
}
