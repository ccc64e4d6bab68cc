using System.Runtime.CompilerServices;
using Qkd.Core.Bits;

namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// Alice's side of Cascade: answers Bob's parity queries from her (unchanging) frame and counts every parity she
/// discloses, which is the leakage privacy amplification has to remove. Each pass's permuted copy of the frame is
/// built on the first query that needs it, so a range parity is a word-wise popcount (the half-frame parities of
/// a final pass come straight from its subset mask, without a copy). Not thread-safe: one frame is answered one
/// batch at a time. The frame copy and the pass copies are raw key: <see cref="Zeroise"/> clears them once the
/// block is done.
/// </summary>
public sealed class CascadeResponder
{
    private readonly CascadeSchedule _schedule;
    private readonly ulong[] _frame;
    private readonly ulong[]?[] _passBits;

    /// <param name="aliceFrame">Alice's bits; copied, so later changes to it do not affect the answers.</param>
    /// <param name="schedule">The schedule agreed with Bob for this frame.</param>
    public CascadeResponder(PackedBits aliceFrame, CascadeSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(aliceFrame);
        ArgumentNullException.ThrowIfNull(schedule);
        if (aliceFrame.Length != schedule.FrameLength)
            throw new ArgumentException($"Alice's frame has {aliceFrame.Length} bits but the schedule is for {schedule.FrameLength}.", nameof(aliceFrame));
        _schedule = schedule;
        _frame = CascadeBuffers.Rent(aliceFrame.Words.Length);
        aliceFrame.Words.CopyTo(_frame);
        _passBits = new ulong[]?[schedule.PassCount];
    }

    public CascadeSchedule Schedule => _schedule;

    /// <summary>Parities answered so far: the bits of the key disclosed on the public channel.</summary>
    public long ParitiesDisclosed { get; private set; }

    /// <summary>
    /// Writes Alice's parity (0 or 1) of every query into <paramref name="parities"/>. The whole batch is checked
    /// before anything is disclosed.
    /// </summary>
    /// <exception cref="ArgumentException">A query names a pass the schedule does not have or a range outside the
    /// frame, or the spans differ in length.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Answer(ReadOnlySpan<ParityQuery> queries, Span<byte> parities)
    {
        if (parities.Length != queries.Length)
            throw new ArgumentException($"{parities.Length} parity slots for {queries.Length} queries.", nameof(parities));
        Check(queries);
        if (_zeroised) throw new InvalidOperationException("This responder's frame was zeroised; its block is done.");
        for (int i = 0; i < queries.Length; i++)
        {
            var q = queries[i];
            var bits = _passBits[q.Pass];
            if (bits is null && _schedule.Permutation(q.Pass).TryRangeParity(_frame, q.Start, q.Length, out int parity))
                parities[i] = (byte)parity;
            else
                parities[i] = (byte)PassRangeParity.Of(bits ?? PassBits(q.Pass), q.Start, q.Length);
        }
        ParitiesDisclosed += queries.Length;
    }

    /// <summary>
    /// Checks a batch without answering it, so that a message carrying several frames' batches can be refused whole
    /// before any frame discloses a parity.
    /// </summary>
    /// <exception cref="ArgumentException">A query names a pass the schedule does not have or a range outside the frame.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Check(ReadOnlySpan<ParityQuery> queries)
    {
        int n = _schedule.FrameLength;
        for (int i = 0; i < queries.Length; i++)
        {
            var q = queries[i];
            if ((uint)q.Pass >= (uint)_schedule.PassCount)
                throw new ArgumentException($"Query {i} names pass {q.Pass}; the schedule has passes 0..{_schedule.PassCount - 1}.", nameof(queries));
            if (q.Start < 0 || q.Length <= 0 || (long)q.Start + q.Length > n)
                throw new ArgumentException($"Query {i} asks for range [{q.Start}, {(long)q.Start + q.Length}) of pass {q.Pass}, which is not a non-empty range inside the {n}-bit frame.", nameof(queries));
        }
    }

    /// <summary>
    /// Overwrites the frame copy and every pass copy with zeros (handing them back to <see cref="CascadeBuffers"/>);
    /// the responder answers nothing afterwards.
    /// </summary>
    public void Zeroise()
    {
        if (_zeroised) return;
        _zeroised = true;
        CascadeBuffers.Return(_frame);
        for (int p = 0; p < _passBits.Length; p++)
        {
            if (_passBits[p] is { } bits) CascadeBuffers.Return(bits);
            _passBits[p] = null;
        }
    }

    private bool _zeroised;

    /// <summary>The arrays holding key bits (the frame copy and the pass copies built so far), for the tests.</summary>
    internal IReadOnlyList<ulong[]> KeyCopies => [_frame, .. _passBits.OfType<ulong[]>()];

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private ulong[] PassBits(int pass)
    {
        var bits = _passBits[pass];
        if (bits is null)
        {
            bits = CascadeBuffers.Rent(PackedBits.WordCount(_schedule.FrameLength));
            _schedule.Permutation(pass).Apply(_frame, bits);
            _passBits[pass] = bits;
        }
        return bits;
    }
}
