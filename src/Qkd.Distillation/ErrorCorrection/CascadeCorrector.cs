using Qkd.Core.Bits;

namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// Bob's side of Cascade: corrects his frame in place by asking Alice (through an <see cref="IParityOracle"/>) for
/// parities of ranges of each pass's permuted order.
/// </summary>
/// <remarks>
/// Leakage is kept low by never asking for a parity that is already known or implied: every answer is stored in
/// the pass's search tree, so a binary search that re-enters a block reuses the parities of earlier searches;
/// the parity of a right half is deduced from its parent and left half; and from the second pass on the last
/// block's parity follows from the frame parity revealed by the first pass. Rounds are kept low by batching: one
/// oracle call carries the top-level parities of a pass, and each further call carries one level of every
/// binary search under way. Searches run for one pass at a time, because blocks of one pass are disjoint and so
/// cannot disturb each other; corrections then turn blocks of other passes odd, and those are searched next,
/// smallest blocks first, since a correction found cheaply in a small block often settles a large block for free.
/// </remarks>
public sealed class CascadeCorrector
{
    private readonly PackedBits _frame;
    private readonly CascadeSchedule _schedule;
    private readonly CorrectorPass?[] _passes;
    private int _startedPasses;
    private int _aliceFrameParity;

    private readonly ParityQuery[] _queries;
    private readonly byte[] _answers;
    private readonly Search[] _searches;
    private readonly int[] _queryOwner;
    private readonly int[] _drained;

    private long _leakedBits;
    private long _correctedBits;
    private int _rounds;
    private bool _started;

    /// <param name="bobFrame">Bob's bits; corrected in place by <see cref="RunAsync"/>.</param>
    /// <param name="schedule">The schedule agreed with Alice for this frame.</param>
    public CascadeCorrector(PackedBits bobFrame, CascadeSchedule schedule)
    {
        ArgumentNullException.ThrowIfNull(bobFrame);
        ArgumentNullException.ThrowIfNull(schedule);
        if (bobFrame.Length != schedule.FrameLength)
            throw new ArgumentException($"Bob's frame has {bobFrame.Length} bits but the schedule is for {schedule.FrameLength}.", nameof(bobFrame));
        _frame = bobFrame;
        _schedule = schedule;
        _passes = new CorrectorPass?[schedule.PassCount];

        int maxBlocks = 1;
        for (int p = 0; p < schedule.PassCount; p++) maxBlocks = Math.Max(maxBlocks, schedule.BlockCount(p));
        _queries = new ParityQuery[maxBlocks];
        _answers = new byte[maxBlocks];
        _searches = new Search[maxBlocks];
        _queryOwner = new int[maxBlocks];
        _drained = new int[maxBlocks];
    }

    /// <summary>Runs every pass of the schedule; on return Bob's frame is corrected as far as Cascade could.</summary>
    /// <exception cref="InvalidOperationException">Called twice.</exception>
    /// <exception cref="InvalidDataException">The oracle answered something other than 0 or 1.</exception>
    public async ValueTask<CascadeResult> RunAsync(IParityOracle oracle, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(oracle);
        if (_started) throw new InvalidOperationException("This corrector has already run; create one per frame.");
        _started = true;

        for (int p = 0; p < _schedule.PassCount; p++)
        {
            await OpenPassAsync(p, oracle, cancellationToken).ConfigureAwait(false);
            await SettleOddBlocksAsync(oracle, cancellationToken).ConfigureAwait(false);
        }
        return new CascadeResult(_leakedBits, _correctedBits, _rounds, _schedule.FrameLength, _schedule.QberEstimate);
    }

    /// <summary>Builds Bob's view of the pass, learns Alice's block parities in one round and queues odd blocks.</summary>
    private async ValueTask OpenPassAsync(int p, IParityOracle oracle, CancellationToken cancellationToken)
    {
        var layout = _schedule.Layout(p);
        var pass = new CorrectorPass(p, layout, _schedule.Permutation(p), _frame.Words);
        _passes[p] = pass;
        _startedPasses = p + 1;

        // From the second pass on, Alice's frame parity is known, so the last block's parity is implied.
        int asked = p == 0 ? layout.BlockCount : layout.BlockCount - 1;
        for (int b = 0; b < asked; b++)
            _queries[b] = new ParityQuery(p, layout.BlockStart(b), layout.BlockLength(b));
        await AskAsync(asked, oracle, cancellationToken).ConfigureAwait(false);

        int sum = 0;
        for (int b = 0; b < asked; b++)
        {
            pass.SetAliceParity(pass.NodeIndex(b, 1), _answers[b]);
            sum ^= _answers[b];
        }
        if (p == 0) _aliceFrameParity = sum;
        else pass.SetAliceParity(pass.NodeIndex(layout.BlockCount - 1, 1), _aliceFrameParity ^ sum);

        for (int b = 0; b < layout.BlockCount; b++)
            if (pass.IsOdd(b)) pass.Enqueue(b);
    }

    /// <summary>Binary-searches odd blocks, pass by pass, until every known block parity agrees with Alice's.</summary>
    private async ValueTask SettleOddBlocksAsync(IParityOracle oracle, CancellationToken cancellationToken)
    {
        while (NextPassToSearch() is { } pass)
        {
            int count = pass.DrainPending(_drained);
            var layout = pass.Layout;
            for (int i = 0; i < count; i++)
            {
                int block = _drained[i];
                _searches[i] = new Search(block, layout.BlockStart(block), layout.BlockLength(block), layout.TreeSpan);
            }
            await SearchBlocksAsync(pass, count, oracle, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The started pass with queued odd blocks and the smallest block size (the cheapest searches).</summary>
    private CorrectorPass? NextPassToSearch()
    {
        CorrectorPass? best = null;
        for (int p = 0; p < _startedPasses; p++)
        {
            var pass = _passes[p]!;
            if (pass.PendingCount == 0) continue;
            pass.DiscardEvenPending();
            if (pass.PendingCount == 0) continue;
            if (best is null || pass.Layout.BlockSize < best.Layout.BlockSize) best = pass;
        }
        return best;
    }

    /// <summary>Runs the binary searches of <paramref name="active"/> odd blocks of one pass in lock step, one level per round.</summary>
    private async ValueTask SearchBlocksAsync(CorrectorPass pass, int active, IParityOracle oracle, CancellationToken cancellationToken)
    {
        while (active > 0)
        {
            int asked = 0;
            for (int i = 0; i < active;)
            {
                ref var search = ref _searches[i];
                if (Descend(pass, ref search))
                {
                    // Found: Alice's and Bob's bits differ at search.Start.
                    Correct(pass, search.Start);
                    _searches[i] = _searches[--active];
                    continue;
                }
                _queries[asked] = new ParityQuery(pass.Index, search.Start, search.Span >> 1);
                _queryOwner[asked] = i;
                asked++;
                i++;
            }
            if (asked == 0) break;
            await AskAsync(asked, oracle, cancellationToken).ConfigureAwait(false);
            for (int q = 0; q < asked; q++)
            {
                ref var search = ref _searches[_queryOwner[q]];
                int parent = pass.NodeIndex(search.Block, search.Node);
                int left = pass.NodeIndex(search.Block, 2 * search.Node);
                pass.SetAliceParity(left, _answers[q]);
                pass.SetAliceParity(left + 1, pass.AliceParity(parent) ^ _answers[q]);
            }
        }
    }

    /// <summary>
    /// Walks down from the search's current node (whose error parity is odd) through nodes whose Alice parity is
    /// known. Returns true when it reaches a single bit (the error); false when it needs Alice's parity of the
    /// current node's left half.
    /// </summary>
    private static bool Descend(CorrectorPass pass, ref Search search)
    {
        ulong[] bits = pass.Bits;
        while (search.Length > 1)
        {
            int half = search.Span >> 1;
            int node = pass.NodeIndex(search.Block, search.Node);
            int left = pass.NodeIndex(search.Block, 2 * search.Node);
            if (search.Length <= half)
            {
                // The node lies entirely in its left half (a clipped tail): same range, same parity.
                if (!pass.IsKnown(left)) pass.SetAliceParity(left, pass.AliceParity(node));
                search.Node *= 2;
                search.Span = half;
                continue;
            }
            if (!pass.IsKnown(left)) return false;
            int aliceLeft = pass.AliceParity(left);
            int bobLeft = PackedBits.RangeParity(bits, search.Start, half);
            if ((aliceLeft ^ bobLeft) != 0)
            {
                search.Node *= 2;
                search.Length = half;
            }
            else
            {
                if (!pass.IsKnown(left + 1)) pass.SetAliceParity(left + 1, pass.AliceParity(node) ^ aliceLeft);
                search.Node = 2 * search.Node + 1;
                search.Start += half;
                search.Length -= half;
            }
            search.Span = half;
        }
        return true;
    }

    /// <summary>Flips the erroneous bit in the frame and in every started pass, queueing blocks that turn odd.</summary>
    private void Correct(CorrectorPass foundIn, int position)
    {
        int original = foundIn.Permutation.ToOriginalUnchecked(position);
        _frame.Flip(original);
        _correctedBits++;
        for (int p = 0; p < _startedPasses; p++)
        {
            var pass = _passes[p]!;
            pass.Flip(pass == foundIn ? position : pass.Permutation.ToPermutedUnchecked(original));
        }
    }

    private async ValueTask AskAsync(int count, IParityOracle oracle, CancellationToken cancellationToken)
    {
        if (count == 0) return;
        cancellationToken.ThrowIfCancellationRequested();
        _rounds++;
        _leakedBits += count;
        await oracle.AnswerAsync(_queries.AsMemory(0, count), _answers.AsMemory(0, count), cancellationToken).ConfigureAwait(false);
        for (int i = 0; i < count; i++)
            if (_answers[i] > 1)
                throw new InvalidDataException($"The parity oracle answered {_answers[i]} to query {i} ({_queries[i]}); parities are 0 or 1.");
    }

    /// <summary>A binary search in progress: the current node (odd error parity) and the range it covers.</summary>
    private struct Search(int block, int start, int length, int span)
    {
        public int Block = block;
        public int Node = 1;        // heap index within the block's tree
        public int Start = start;   // first pass position of the node
        public int Length = length; // positions the node covers (clipped to the block)
        public int Span = span;     // the node's power-of-two span in the tree
    }
}
