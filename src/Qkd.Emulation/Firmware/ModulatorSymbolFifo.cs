using System.Numerics;
using System.Runtime.CompilerServices;
using Qkd.Core;
using Qkd.Core.Symbols;

namespace Qkd.Emulation.Firmware;

/// <summary>
/// The emulated modulator's symbol memory between the host's SymbolData frames (written by the firmware's receive
/// thread) and the light it sends (read by the <see cref="EmulatedLink"/> as Alice's <see cref="ISymbolSource"/>).
/// Pulse index i of the link is pulse <see cref="FirstPulse"/> + i of the host's numbering (the emission's first pulse
/// is the link's pulse 0, where the first sync tag is).
/// </summary>
/// <remarks>
/// <para>Memory. Frames are copied, still packed two symbols per byte, into a ring of fixed 64 KiB blocks (contiguous
/// frames share a block). When every block is full the writer waits: that back-pressure stops the receive thread,
/// which stops reading the transport, which stops the host — memory stays bounded at 1 GHz and 0.5 GB/s of symbols.
/// A block is freed as soon as the reader has moved past it.</para>
/// <para>Reading. <see cref="SymbolAt"/> is called with increasing pulse indices, sparsely (the link only looks at the
/// pulses it considers for a click). The fast path is one range check and a nibble lookup; only crossing into the next
/// block takes the lock. It blocks until the host has sent that pulse or the emission ended. Pulses in a gap of the
/// host's stream, and every pulse at or after <see cref="EndPulse"/>, are vacuum.</para>
/// <para>One writer thread and one reader thread.</para>
/// </remarks>
public sealed class ModulatorSymbolFifo : ISymbolSource
{
    public const int BlockBytes = 64 * 1024;

    private static readonly PulseSymbol Vacuum = new(Basis.Z, 0, Intensity.Vacuum);

    private readonly object _gate = new();
    private readonly Block[] _ring;
    private readonly PulseSymbol[] _symbolOfNibble = new PulseSymbol[16];
    private int _head; // oldest block still held (the reader's)
    private int _count; // blocks in use
    private long _receivedEnd; // relative: every pulse below it was received or is a gap
    private long _endPulse = long.MaxValue;
    private volatile bool _complete;
    private volatile bool _aborted;
    private volatile bool _unobserved;

    // Reader-only cache of the block being read: the fast path touches nothing shared.
    private byte[]? _readData;
    private long _readFirst;
    private long _readEnd;
    private long _lastRead = -1;

    /// <param name="firstPulse">The emission's first pulse in the host's numbering (StartEmission payload).</param>
    /// <param name="distribution">Alice's symbol distribution, reported through <see cref="Distribution"/>.</param>
    /// <param name="capacityBlocks">Blocks of <see cref="BlockBytes"/> bytes (128 = 8 MiB = 16.7 M pulses).</param>
    public ModulatorSymbolFifo(long firstPulse, SymbolDistribution distribution, int capacityBlocks = 128)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(firstPulse);
        ArgumentNullException.ThrowIfNull(distribution);
        ArgumentOutOfRangeException.ThrowIfLessThan(capacityBlocks, 2);
        FirstPulse = firstPulse;
        Distribution = distribution;
        _ring = new Block[capacityBlocks];
        for (int i = 0; i < _ring.Length; i++) _ring[i] = new Block();
        for (int nibble = 0; nibble < 16; nibble++)
        {
            PulseSymbol symbol = PulseSymbol.Unpack((byte)nibble);
            // Level 3 does not exist: the device sends vacuum (counted on arrival in InvalidSymbols).
            _symbolOfNibble[nibble] = symbol.Intensity > Intensity.Vacuum ? symbol with { Intensity = Intensity.Vacuum } : symbol;
        }
    }

    public SymbolDistribution Distribution { get; }

    /// <summary>The emission's first pulse (host numbering); link pulse i is host pulse FirstPulse + i.</summary>
    public long FirstPulse { get; }

    /// <summary>Relative pulses received so far (or skipped as gaps): every link pulse below this is known.</summary>
    public long ReceivedEnd => Volatile.Read(ref _receivedEnd);

    /// <summary>Whether the emission ended (<see cref="Complete"/>); then <see cref="EndPulse"/> is final.</summary>
    public bool IsComplete => _complete;

    /// <summary>Relative end of the emission (exclusive); <see cref="long.MaxValue"/> until <see cref="Complete"/>.</summary>
    public long EndPulse => Volatile.Read(ref _endPulse);

    /// <summary>Symbols stored (received and kept).</summary>
    public long SymbolsReceived { get; private set; }

    /// <summary>Pulses in gaps of the host's stream, sent as vacuum.</summary>
    public long PulsesLost { get; private set; }

    /// <summary>Symbols with the undefined intensity level 3, sent as vacuum.</summary>
    public long InvalidSymbols { get; private set; }

    /// <summary>Frames dropped whole because every pulse in them was received already (or they overlap by an odd count).</summary>
    public long FramesBehind { get; private set; }

    /// <summary>
    /// Pulses sent while nobody observed the light (<see cref="Unobserved"/>): consumed at once and read as vacuum.
    /// </summary>
    public long PulsesUnobserved { get; private set; }

    /// <summary>
    /// The light goes out but nothing records it (the receiver's tagger is not streaming): a laser keeps firing at its
    /// pulse rate whoever listens, so the host's symbols are consumed at once instead of waiting for the physics to read
    /// them (which would stall the host's stream and its stop request behind it), and their pulses read as vacuum.
    /// </summary>
    public bool Unobserved
    {
        get => _unobserved;
        set
        {
            lock (_gate)
            {
                _unobserved = value;
                Monitor.PulseAll(_gate); // a writer waiting for room gives up its frame
            }
        }
    }

    /// <summary>Times the writer waited for the reader to free a block (back-pressure).</summary>
    public long WriterWaits { get; private set; }

    /// <summary>
    /// Stores the packed symbols of host pulses <paramref name="firstPulse"/>... (two per byte, low nibble first). Blocks
    /// while the ring is full. Returns false (nothing stored) when the frame starts before pulses already received or
    /// the FIFO was completed or aborted; <paramref name="gapPulses"/> is the gap before this frame (pulses now vacuum).
    /// </summary>
    public bool Write(long firstPulse, ReadOnlySpan<byte> packed, out long gapPulses)
    {
        gapPulses = 0;
        long first = firstPulse - FirstPulse;
        long expected = Volatile.Read(ref _receivedEnd);
        if (_complete || _aborted) return false;
        if (first < expected)
        {
            // Pulses already received (a repeated or late frame): discard them, keep what continues the stream.
            long late = expected - first;
            if (late >= 2L * packed.Length || (late & 1) != 0)
            {
                FramesBehind++;
                return false;
            }
            packed = packed[(int)(late / 2)..];
            first = expected;
        }
        if (_unobserved)
        {
            lock (_gate)
            {
                // The pulses go out unobserved: no block holds them, so the reader takes them (and any gap) as vacuum.
                if (_count > 0) _ring[(_head + _count - 1) % _ring.Length].Sealed = true;
                long end = first + 2L * packed.Length;
                PulsesUnobserved += end - expected;
                Volatile.Write(ref _receivedEnd, end);
                Monitor.PulseAll(_gate);
            }
            return true;
        }
        InvalidSymbols += CountInvalid(packed);
        gapPulses = first - expected;
        if (gapPulses > 0)
        {
            PulsesLost += gapPulses;
            lock (_gate)
            {
                // The current block ends here; the reader treats the pulses up to the next block as vacuum.
                if (_count > 0) _ring[(_head + _count - 1) % _ring.Length].Sealed = true;
                Volatile.Write(ref _receivedEnd, first);
                Monitor.PulseAll(_gate);
            }
        }
        long pulse = first;
        while (!packed.IsEmpty)
        {
            Block? block = TailWithRoom(pulse);
            if (block is null) return false; // aborted while waiting
            int bytes = Math.Min(packed.Length, BlockBytes - block.Bytes);
            // Written outside the lock: the reader only reads below the published length.
            packed[..bytes].CopyTo(block.Data.AsSpan(block.Bytes));
            packed = packed[bytes..];
            pulse += 2L * bytes;
            lock (_gate)
            {
                block.Bytes += bytes;
                Volatile.Write(ref _receivedEnd, pulse);
                Monitor.PulseAll(_gate);
            }
            SymbolsReceived += 2L * bytes;
        }
        return true;
    }

    /// <summary>The emission ended (StopEmission, interlock): pulses from the received end on are vacuum, and the end is known.</summary>
    public void Complete()
    {
        lock (_gate)
        {
            if (_complete) return;
            Volatile.Write(ref _endPulse, _receivedEnd);
            _complete = true;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>Wakes every waiter for good (the device is shut down): a waiting <see cref="SymbolAt"/> throws.</summary>
    public void Abort()
    {
        lock (_gate)
        {
            _aborted = true;
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>
    /// The symbol of link pulse <paramref name="pulseIndex"/> (relative to <see cref="FirstPulse"/>). Indices must not
    /// decrease. Blocks until the host has sent the pulse or the emission ended.
    /// </summary>
    /// <exception cref="OperationCanceledException">The FIFO was aborted while waiting.</exception>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public PulseSymbol SymbolAt(long pulseIndex)
    {
        long offset = pulseIndex - _readFirst;
        if (pulseIndex < _readEnd && offset >= 0 && pulseIndex >= _lastRead)
        {
            _lastRead = pulseIndex;
            return _symbolOfNibble[(_readData![(int)(offset >> 1)] >> (int)((offset & 1) << 2)) & 0x0F];
        }
        return SymbolAtSlow(pulseIndex);
    }

    private PulseSymbol SymbolAtSlow(long pulseIndex)
    {
        if (pulseIndex < _lastRead)
            throw new ArgumentOutOfRangeException(nameof(pulseIndex), pulseIndex, $"Symbols are read in increasing pulse order; pulse {_lastRead} was read already.");
        _lastRead = pulseIndex;
        lock (_gate)
        {
            while (true)
            {
                if (_aborted) throw new OperationCanceledException("The modulator's symbol FIFO was shut down.");
                if (pulseIndex >= _endPulse) return Vacuum;
                if (_count > 0)
                {
                    Block head = _ring[_head];
                    long headEnd = head.FirstPulse + 2L * head.Bytes;
                    if (pulseIndex < head.FirstPulse) return Vacuum; // a gap in the host's stream
                    if (pulseIndex < headEnd)
                    {
                        _readData = head.Data;
                        _readFirst = head.FirstPulse;
                        _readEnd = headEnd;
                        long offset = pulseIndex - head.FirstPulse;
                        return _symbolOfNibble[(head.Data[(int)(offset >> 1)] >> (int)((offset & 1) << 2)) & 0x0F];
                    }
                    if (head.Sealed || _count > 1)
                    {
                        // The reader is past this block and it will not grow: free it for the writer.
                        head.Reset();
                        _head = (_head + 1) % _ring.Length;
                        _count--;
                        _readData = null;
                        _readEnd = 0;
                        Monitor.PulseAll(_gate);
                        continue;
                    }
                }
                if (pulseIndex < _receivedEnd) return Vacuum; // a gap after the last block
                Monitor.Wait(_gate);
            }
        }
    }

    /// <summary>The block to append pulse <paramref name="pulse"/> to: the tail if contiguous with room, else a new one.</summary>
    private Block? TailWithRoom(long pulse)
    {
        lock (_gate)
        {
            if (_count > 0)
            {
                Block tail = _ring[(_head + _count - 1) % _ring.Length];
                if (!tail.Sealed && tail.FirstPulse + 2L * tail.Bytes == pulse && tail.Bytes < BlockBytes) return tail;
                tail.Sealed = true;
            }
            bool waited = false;
            while (_count == _ring.Length && !_aborted && !_complete && !_unobserved)
            {
                if (!waited) WriterWaits++;
                waited = true;
                Monitor.Wait(_gate);
            }
            if (_aborted || _complete || (_unobserved && _count == _ring.Length)) return null;
            Block block = _ring[(_head + _count) % _ring.Length];
            block.FirstPulse = pulse;
            block.Bytes = 0;
            block.Sealed = false;
            _count++;
            return block;
        }
    }

    /// <summary>Nibbles with intensity bits 11 (level 3): a vectorised "any?" first, exact count only when there are some.</summary>
    private static long CountInvalid(ReadOnlySpan<byte> packed)
    {
        var low = new Vector<byte>(0x0C);
        var high = new Vector<byte>(0xC0);
        long invalid = 0;
        int i = 0;
        for (; i <= packed.Length - Vector<byte>.Count; i += Vector<byte>.Count)
        {
            var v = new Vector<byte>(packed[i..]);
            if (Vector.EqualsAny(v & low, low) || Vector.EqualsAny(v & high, high))
                invalid += CountInvalidScalar(packed.Slice(i, Vector<byte>.Count));
        }
        return invalid + CountInvalidScalar(packed[i..]);
    }

    private static long CountInvalidScalar(ReadOnlySpan<byte> packed)
    {
        long invalid = 0;
        foreach (byte b in packed)
        {
            if ((b & 0x0C) == 0x0C) invalid++;
            if ((b & 0xC0) == 0xC0) invalid++;
        }
        return invalid;
    }

    private sealed class Block
    {
        public readonly byte[] Data = new byte[BlockBytes];
        public long FirstPulse;
        public int Bytes;
        public bool Sealed;

        public void Reset()
        {
            Bytes = 0;
            Sealed = false;
        }
    }
}
