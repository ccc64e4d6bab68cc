using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Qkd.Core.Random;

namespace Qkd.Core.Symbols;

/// <summary>
/// Alice's symbols under a key schedule instead of one session key: pulses are grouped into key epochs of
/// 2^<see cref="EpochPulsesLog2"/> pulses, and epoch e has its own 256-bit key, drawn from an <see cref="IEntropySource"/>
/// (a QRNG's checked entropy mixed with the OS CSPRNG) when the epoch is first needed. The symbol of pulse i is
/// <see cref="SecureSymbolSource"/>'s symbol of i under the key of epoch i >> <see cref="EpochPulsesLog2"/>: the emission
/// log stays a pure function of (key schedule, pulse index) in memory of 32 bytes per epoch, so the distiller looks up
/// any emitted pulse as before, while fresh entropy enters the symbol stream every epoch (a QRNG over USB gives Mb/s,
/// not the Gb/s a 1 GHz transmitter's symbols take directly; it gives 32 bytes per epoch easily).
/// </summary>
/// <remarks>
/// <para>Key schedule. Epochs are keyed in order, each exactly once, by whoever first needs one (the modulator's
/// <see cref="FillPacked"/> in practice); an epoch skipped by a sparse reader is keyed too, so the schedule is a plain
/// sequence. Keys live in pinned arrays (the GC leaves no copies), are never written, logged or sent, and are all zeroed
/// by <see cref="Dispose"/> at the end of the session, after which every lookup throws.</para>
/// <para>Health. Emission (<see cref="FillPacked"/>) is refused while the entropy source is not healthy, even inside an
/// epoch already keyed, and a new epoch can only be keyed while it is healthy: a failing QRNG stops the symbol stream
/// at the next modulator frame with <see cref="EntropySourceUnavailableException"/>. Lookups of pulses in epochs already
/// keyed (<see cref="SymbolAt"/>, <see cref="IntensityAt"/>: the distiller answering for pulses already sent) go on.</para>
/// <para>Bounds. Pulses at or beyond <c>pulseLimit</c> (the session's emission length) are refused, so a peer reporting
/// absurd pulse indices cannot make Alice key epochs she never emits.</para>
/// <para>Thread-safe: one modulator thread and any number of lookups may run at once.</para>
/// </remarks>
public sealed class RekeyedSymbolSource : ISymbolSource, IDisposable
{
    /// <summary>2^24 pulses (16.8 ms at 1 GHz): 32 bytes of QRNG entropy per epoch, about 1.9 kB/s at 1 GHz.</summary>
    public const int DefaultEpochPulsesLog2 = 24;

    /// <summary>Smallest epoch: 2^7 pulses (one 512-bit vector group of the bulk path).</summary>
    public const int MinEpochPulsesLog2 = 7;

    public const int MaxEpochPulsesLog2 = 48;

    /// <summary>The most epochs a schedule holds: 2^22 keys, 128 MiB (at 2^24 pulses an epoch, 19 hours at 1 GHz).</summary>
    public const long MaxEpochs = 1L << 22;

    private const int KeyWords = 8;
    private const int KeyBytes = KeyWords * sizeof(uint);
    private const int ChunkEpochsLog2 = 10;
    private const int ChunkEpochs = 1 << ChunkEpochsLog2;

    private readonly IEntropySource _entropy;
    private readonly long _pulseLimit;
    private readonly object _gate = new();
    // Chunks of ChunkEpochs keys each, pinned; the array of chunks is replaced (never the chunks) when it grows.
    private uint[][] _chunks = [];
    private long _keyed;
    private volatile bool _disposed;

    /// <param name="distribution">The basis and intensity probabilities.</param>
    /// <param name="entropy">Keys every epoch (drawn when the epoch is first needed).</param>
    /// <param name="epochPulsesLog2">Pulses per key epoch, as a power of two (7 .. 48).</param>
    /// <param name="pulseLimit">Pulses of the emission (lookups at or beyond it are refused); default: no limit.</param>
    public RekeyedSymbolSource(SymbolDistribution distribution, IEntropySource entropy, int epochPulsesLog2 = DefaultEpochPulsesLog2,
        long pulseLimit = long.MaxValue)
    {
        Distribution = distribution ?? throw new ArgumentNullException(nameof(distribution));
        _entropy = entropy ?? throw new ArgumentNullException(nameof(entropy));
        ArgumentOutOfRangeException.ThrowIfLessThan(epochPulsesLog2, MinEpochPulsesLog2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(epochPulsesLog2, MaxEpochPulsesLog2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(pulseLimit);
        EpochPulsesLog2 = epochPulsesLog2;
        _pulseLimit = pulseLimit;
    }

    public SymbolDistribution Distribution { get; }

    public int EpochPulsesLog2 { get; }

    public long EpochPulses => 1L << EpochPulsesLog2;

    /// <summary>Epochs keyed so far (each took one draw of key material from the entropy source).</summary>
    public long KeyEpochs => Volatile.Read(ref _keyed);

    /// <summary>The epoch pulse <paramref name="pulseIndex"/> belongs to.</summary>
    public long EpochOf(long pulseIndex) => pulseIndex >> EpochPulsesLog2;

    public PulseSymbol SymbolAt(long pulseIndex) => Distribution.FromRandom(RandomAt(pulseIndex));

    /// <summary>Only the intensity of pulse i (the same 64 bits as <see cref="SymbolAt"/>).</summary>
    public Intensity IntensityAt(long pulseIndex) => Distribution.IntensityFrom(RandomAt(pulseIndex));

    private ulong RandomAt(long pulseIndex)
    {
        CheckPulse(pulseIndex);
        ulong value = SecureSymbolSource.RandomAt(KeyOf(EpochOf(pulseIndex)), pulseIndex);
        ObjectDisposedException.ThrowIf(_disposed, this);
        return value;
    }

    /// <summary>
    /// The modulator's bulk path: the same symbols as <see cref="SymbolAt"/>, packed, through
    /// <see cref="SecureSymbolSource"/>'s bulk path once per epoch the span covers (no allocation once the epochs are
    /// keyed). Refused while the entropy source is not healthy.
    /// </summary>
    /// <exception cref="EntropySourceUnavailableException">The entropy source is not healthy: emission stops.</exception>
    public void FillPacked(long firstPulse, Span<byte> packed)
    {
        CheckPulse(firstPulse);
        if (packed.IsEmpty) return;
        // One pulse past the limit is allowed: the modulator pads an odd emission to whole bytes with a pulse it never sends.
        if (firstPulse + 2L * packed.Length - 1 > _pulseLimit)
            throw new ArgumentOutOfRangeException(nameof(packed), $"pulses {firstPulse} .. {firstPulse + 2L * packed.Length - 1} go beyond the emission's {_pulseLimit} pulses");
        if (!_entropy.IsHealthy)
            throw new EntropySourceUnavailableException(_entropy.Description, $"emit the symbols of pulse {firstPulse} on", _entropy.Alarm);
        long pulse = firstPulse;
        int at = 0;
        while (at < packed.Length)
        {
            long epoch = EpochOf(pulse);
            ReadOnlySpan<uint> key = KeyOf(epoch);
            long left = ((epoch + 1) << EpochPulsesLog2) - pulse; // pulses of this epoch from `pulse` on
            int whole = (int)Math.Min(packed.Length - at, left / 2);
            SecureSymbolSource.FillPacked(key, Distribution, pulse, packed.Slice(at, whole));
            at += whole;
            pulse += 2L * whole;
            if (at < packed.Length && (left & 1) == 1)
            {
                // An odd start puts the epoch's last pulse and the next epoch's first in one byte.
                byte low = Distribution.PackedFrom(SecureSymbolSource.RandomAt(key, pulse));
                byte high = Distribution.PackedFrom(SecureSymbolSource.RandomAt(KeyOf(epoch + 1), pulse + 1));
                packed[at++] = (byte)(low | (high << 4));
                pulse += 2;
            }
        }
        // The session ended while the modulator was still streaming: no symbols from keys being zeroed meanwhile.
        ObjectDisposedException.ThrowIf(_disposed, this);
    }

    private void CheckPulse(long pulseIndex)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(pulseIndex);
        if (pulseIndex >= _pulseLimit)
            throw new ArgumentOutOfRangeException(nameof(pulseIndex), pulseIndex, $"pulse {pulseIndex} is beyond the emission's {_pulseLimit} pulses");
        ObjectDisposedException.ThrowIf(_disposed, this);
    }

    /// <summary>Epoch <paramref name="epoch"/>'s key, keying it (and any epoch before it not yet keyed) first.</summary>
    private ReadOnlySpan<uint> KeyOf(long epoch)
    {
        if (epoch >= Volatile.Read(ref _keyed)) KeyUpTo(epoch);
        uint[] chunk = Volatile.Read(ref _chunks)[epoch >> ChunkEpochsLog2];
        return chunk.AsSpan((int)(epoch & (ChunkEpochs - 1)) * KeyWords, KeyWords);
    }

    private void KeyUpTo(long epoch)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (epoch >= MaxEpochs)
                throw new InvalidOperationException($"Key epoch {epoch} is beyond the schedule's {MaxEpochs} epochs; use longer epochs or shorter sessions.");
            while (_keyed <= epoch)
            {
                long next = _keyed;
                int chunkIndex = (int)(next >> ChunkEpochsLog2);
                uint[][] chunks = _chunks;
                if (chunkIndex == chunks.Length)
                {
                    var grown = new uint[chunks.Length + 1][];
                    chunks.CopyTo(grown, 0);
                    grown[chunkIndex] = GC.AllocateArray<uint>(ChunkEpochs * KeyWords, pinned: true);
                    chunks = grown;
                }
                Span<byte> slot = MemoryMarshal.AsBytes(chunks[chunkIndex].AsSpan((int)(next & (ChunkEpochs - 1)) * KeyWords, KeyWords));
                try
                {
                    _entropy.FillKeyMaterial(slot);
                }
                catch
                {
                    CryptographicOperations.ZeroMemory(slot);
                    throw;
                }
                // The key is in place before the chunk array and the count that make it visible to lock-free readers.
                Volatile.Write(ref _chunks, chunks);
                Volatile.Write(ref _keyed, next + 1);
            }
        }
    }

    /// <summary>For the tests: epoch <paramref name="epoch"/>'s key (32 bytes), to replay its symbols independently.</summary>
    internal byte[] EpochKeyForTests(long epoch) => MemoryMarshal.AsBytes(KeyOf(epoch)).ToArray();

    /// <summary>For the tests: whether every key of the schedule is zero (as after <see cref="Dispose"/>).</summary>
    internal bool KeysAreZero => Volatile.Read(ref _chunks).All(chunk => !chunk.AsSpan().ContainsAnyExcept(0u));

    /// <summary>Zeroes every epoch key: the session's symbols can no longer be computed by anyone.</summary>
    public void Dispose()
    {
        lock (_gate)
        {
            _disposed = true;
            foreach (uint[] chunk in _chunks) CryptographicOperations.ZeroMemory(MemoryMarshal.AsBytes(chunk.AsSpan()));
        }
    }
}
