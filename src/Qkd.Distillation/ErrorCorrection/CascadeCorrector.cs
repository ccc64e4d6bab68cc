using System.Runtime.CompilerServices;
using Qkd.Core.Bits;

namespace Qkd.Distillation.ErrorCorrection;

/// <summary>
/// Bob's side of Cascade: corrects his frame in place by asking Alice (through an <see cref="IParityOracle"/>) for
/// parities of ranges of each pass's permuted order.
/// </summary>
/// <remarks>
/// <para>Leakage is kept low by never asking for a parity that is already known or implied: every answer is kept
/// in the pass's search tree, so a binary search that re-enters a block walks down through the parities learned
/// by earlier searches for free; the parity of a right half is deduced from its parent and left half; and from the
/// second pass on, the last block's parity follows from the frame parity the first pass revealed.</para>
/// <para>Rounds are kept low by batching: one oracle call carries the block parities of a new pass, and each
/// further call carries one level of every binary search under way. Correcting an error turns the blocks that
/// contain it in other passes odd; following Cascade, the smallest of them is searched first (cheapest, and the
/// error it finds often settles the larger ones for free), and the others wait. Each odd block found when a pass
/// opens starts such a chain of searches, and the chains advance side by side, one search level per round,
/// rather than one after the other, which would cost a round per level of every chain.</para>
/// </remarks>
public sealed class CascadeCorrector
{
    private readonly PackedBits _frame;
    private readonly CascadeSchedule _schedule;
    private readonly CorrectorPass?[] _passes;
    private int _startedPasses;
    private int _aliceFrameParity;

    // One oracle round: queries, answers, and which search asked each query.
    private ParityQuery[] _queries;
    private byte[] _answers;
    private int[] _queryOwner;

    // Searches under way (entries marked Done are dropped after the round).
    private Search[] _searches = new Search[64];
    private int _searchCount;

    // Cascade chains: live search count and a linked list of waiting (pass, block) entries.
    private int[] _chainLive = new int[64];
    private int[] _chainWaiting = new int[64];
    private int[] _freeChains = new int[64];
    private int _freeChainCount;
    private int _chainCount;
    private int[] _waitPass = new int[64];
    private int[] _waitBlock = new int[64];
    private int[] _waitNext = new int[64];
    private int _waitFree = -1;
    private int _waitCount;

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
        _queryOwner = new int[maxBlocks];
    }

    /// <summary>
    /// Runs the growing passes, then final passes until <see cref="CascadeOptions.ConfirmingPassCount"/> of them
    /// in a row found nothing to correct (or the schedule ends). On return Bob's frame is corrected as far as
    /// Cascade could; whether it now equals Alice's is for verification to confirm.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called twice.</exception>
    /// <exception cref="InvalidDataException">The oracle answered something other than 0 or 1.</exception>
    public async ValueTask<CascadeResult> RunAsync(IParityOracle oracle, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(oracle);
        if (_started) throw new InvalidOperationException("This corrector has already run; create one per frame.");
        _started = true;

        int cleanFinalPasses = 0;
        for (int p = 0; p < _schedule.PassCount; p++)
        {
            if (_schedule.IsFinalPass(p) && cleanFinalPasses >= _schedule.Options.ConfirmingPassCount) break;
            long correctedBefore = _correctedBits;
            await OpenPassAsync(p, oracle, cancellationToken).ConfigureAwait(false);
            await SearchAsync(oracle, cancellationToken).ConfigureAwait(false);
            if (_schedule.IsFinalPass(p)) cleanFinalPasses = _correctedBits == correctedBefore ? cleanFinalPasses + 1 : 0;
        }
        return new CascadeResult(_leakedBits, _correctedBits, _rounds, _schedule.FrameLength, _schedule.QberEstimate)
        {
            PassesRun = _startedPasses,
        };
    }

    /// <summary>
    /// Overwrites every pass's copy of Bob's bits (raw key in permuted order) with zeros; Bob's frame itself is the
    /// caller's to clear. Call once the frame is corrected and copied out.
    /// </summary>
    public void Zeroise()
    {
        foreach (var pass in _passes) pass?.Zeroise();
    }

    /// <summary>The pass copies of Bob's bits built so far, for the tests.</summary>
    internal IReadOnlyList<ulong[]> PassCopies => [.. _passes.Select(p => p?.PassBitsIfBuilt).OfType<ulong[]>()];

    /// <summary>Builds Bob's view of the pass, learns Alice's block parities in one round and starts a chain per odd block.</summary>
    private async ValueTask OpenPassAsync(int p, IParityOracle oracle, CancellationToken cancellationToken)
    {
        var layout = _schedule.Layout(p);
        var pass = new CorrectorPass(p, layout, _schedule.Permutation(p), _frame);
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
            pass.SetBlockParity(b, _answers[b]);
            sum ^= _answers[b];
        }
        if (p == 0) _aliceFrameParity = sum;
        else pass.SetBlockParity(layout.BlockCount - 1, _aliceFrameParity ^ sum);

        for (int b = 0; b < layout.BlockCount; b++)
        {
            if (!pass.IsOdd(b)) continue;
            int chain = NewChain();
            pass.Claim(b);
            AddWaiting(chain, p, b);
            AdvanceChain(chain);
        }
    }

    /// <summary>
    /// Runs rounds until no search is under way and no block waits: each round, every search walks down as far
    /// as known parities take it and then asks for one more.
    /// </summary>
    private async ValueTask SearchAsync(IParityOracle oracle, CancellationToken cancellationToken)
    {
        // The work of a round stays in synchronous methods: locals of an async method live on the heap.
        int asked;
        while ((asked = PrepareRound()) > 0)
        {
            await AskAsync(asked, oracle, cancellationToken).ConfigureAwait(false);
            RecordAnswers(asked);
        }
    }

    /// <summary>
    /// Advances every search as far as known parities allow, correcting the errors found (which may start new
    /// searches, visited in the same round since walking known parities costs nothing), and queues one query per
    /// search still under way. Returns the number of queries.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int PrepareRound()
    {
        int kept = 0;
        for (int i = 0; i < _searchCount; i++)
            if (!_searches[i].Done) _searches[kept++] = _searches[i];
        _searchCount = kept;

        int asked = 0;
        for (int i = 0; i < _searchCount; i++)
        {
            ref var search = ref _searches[i];
            if (search.Done) continue;
            var pass = _passes[search.Pass]!;
            bool found;
            if (pass.TakeTouched(search.Block) && !Revalidate(pass, ref search)) found = false;
            else if (Descend(pass, ref search)) found = true;
            else
            {
                EnsureQueryCapacity(asked + 1);
                _queries[asked] = new ParityQuery(search.Pass, search.Start, search.Span >> 1);
                _queryOwner[asked] = i;
                asked++;
                continue;
            }
            search.Done = true;
            // By value: finishing may start searches, which can reallocate _searches under the reference.
            var finished = search;
            FinishSearch(finished, found ? finished.Start : -1);
        }
        return asked;
    }

    /// <summary>Stores each answer (Alice's parity of a left half) and the right-half parity it implies.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RecordAnswers(int asked)
    {
        for (int q = 0; q < asked; q++)
        {
            ref var search = ref _searches[_queryOwner[q]];
            _passes[search.Pass]!.SetChildParities(search.Block, search.Node, _answers[q]);
        }
    }

    /// <summary>
    /// Walks down from the search's current node (whose error parity is odd) through nodes whose Alice parity is
    /// known. Returns true when it reaches a single bit (the error); false when it needs Alice's parity of the
    /// current node's left half.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static bool Descend(CorrectorPass pass, ref Search search)
    {
        ulong[] bits = pass.Bits;
        while (search.Length > 1)
        {
            int half = search.Span >> 1;
            int left = 2 * search.Node;
            if (search.Length <= half)
            {
                // The node lies entirely in its left half (a clipped tail): same range, same parity.
                if (!pass.IsKnown(search.Block, left))
                    pass.SetAliceParity(search.Block, left, pass.AliceParity(search.Block, search.Node));
                search.Node = left;
                search.Span = half;
                continue;
            }
            if (!pass.IsKnown(search.Block, left)) return false;
            int aliceLeft = pass.AliceParity(search.Block, left);
            if ((aliceLeft ^ PassRangeParity.Of(bits, search.Start, half)) != 0)
            {
                search.Node = left;
                search.Length = half;
            }
            else
            {
                if (!pass.IsKnown(search.Block, left + 1))
                    pass.SetAliceParity(search.Block, left + 1, pass.AliceParity(search.Block, search.Node) ^ aliceLeft);
                search.Node = left + 1;
                search.Start += half;
                search.Length -= half;
            }
            search.Span = half;
        }
        return true;
    }

    /// <summary>
    /// A correction from another chain flipped a bit of this search's block. Keeps the current node if it is
    /// still odd, else restarts from the root (free: the walk down retraces known parities) if the block is still
    /// odd; returns false if the block has become even.
    /// </summary>
    private static bool Revalidate(CorrectorPass pass, ref Search search)
    {
        int alice = pass.AliceParity(search.Block, search.Node);
        if ((alice ^ PackedBits.RangeParity(pass.Bits, search.Start, search.Length)) != 0) return true;
        if (!pass.IsOdd(search.Block)) return false;
        var layout = pass.Layout;
        search = new Search(search.Chain, search.Pass, search.Block, layout.BlockStart(search.Block), layout.BlockLength(search.Block), layout.TreeSpan);
        return true;
    }

    /// <summary>Ends a search (with the error's pass position, or -1 if the block turned even) and moves its chain on.</summary>
    private void FinishSearch(Search search, int errorPosition)
    {
        var pass = _passes[search.Pass]!;
        if (errorPosition >= 0) Correct(pass, errorPosition, search.Chain);
        if (pass.EndSearch(search.Block)) AddWaiting(search.Chain, search.Pass, search.Block);
        if (--_chainLive[search.Chain] == 0) AdvanceChain(search.Chain);
    }

    /// <summary>Flips the erroneous bit in the frame and in every started pass; blocks that turn odd join the chain.</summary>
    private void Correct(CorrectorPass foundIn, int position, int chain)
    {
        int original = foundIn.Permutation.ToOriginalUnchecked(position);
        _frame.Flip(original);
        _correctedBits++;
        for (int p = 0; p < _startedPasses; p++)
        {
            var pass = _passes[p]!;
            int block = pass.Flip(original, pass == foundIn ? position : -1);
            if (block >= 0) AddWaiting(chain, p, block);
        }
    }

    /// <summary>
    /// Starts the chain's next searches: in its waiting blocks of the pass with the smallest blocks (they are
    /// disjoint, so they can run together). Waiting blocks that turned even are dropped; an empty chain ends.
    /// </summary>
    private void AdvanceChain(int chain)
    {
        int bestSize = int.MaxValue, bestPass = -1;
        int previous = -1;
        for (int entry = _chainWaiting[chain]; entry >= 0;)
        {
            int next = _waitNext[entry];
            var pass = _passes[_waitPass[entry]]!;
            if (!pass.IsOdd(_waitBlock[entry]))
            {
                pass.Release(_waitBlock[entry]);
                Unlink(chain, previous, entry);
            }
            else
            {
                if (pass.Layout.BlockSize < bestSize) (bestSize, bestPass) = (pass.Layout.BlockSize, pass.Index);
                previous = entry;
            }
            entry = next;
        }
        if (bestPass < 0)
        {
            _freeChains[_freeChainCount++] = chain;
            return;
        }
        var chosen = _passes[bestPass]!;
        var layout = chosen.Layout;
        previous = -1;
        for (int entry = _chainWaiting[chain]; entry >= 0;)
        {
            int next = _waitNext[entry];
            if (_waitPass[entry] == bestPass)
            {
                int block = _waitBlock[entry];
                Unlink(chain, previous, entry);
                chosen.Release(block);
                chosen.BeginSearch(block);
                _chainLive[chain]++;
                if (_searchCount == _searches.Length) Array.Resize(ref _searches, 2 * _searches.Length);
                _searches[_searchCount++] = new Search(chain, bestPass, block, layout.BlockStart(block), layout.BlockLength(block), layout.TreeSpan);
            }
            else
            {
                previous = entry;
            }
            entry = next;
        }
    }

    private int NewChain()
    {
        int chain;
        if (_freeChainCount > 0) chain = _freeChains[--_freeChainCount];
        else
        {
            chain = _chainCount++;
            if (chain == _chainLive.Length)
            {
                Array.Resize(ref _chainLive, 2 * chain);
                Array.Resize(ref _chainWaiting, 2 * chain);
                Array.Resize(ref _freeChains, 2 * chain);
            }
        }
        _chainLive[chain] = 0;
        _chainWaiting[chain] = -1;
        return chain;
    }

    private void AddWaiting(int chain, int pass, int block)
    {
        int entry;
        if (_waitFree >= 0)
        {
            entry = _waitFree;
            _waitFree = _waitNext[entry];
        }
        else
        {
            entry = _waitCount++;
            if (entry == _waitPass.Length)
            {
                Array.Resize(ref _waitPass, 2 * entry);
                Array.Resize(ref _waitBlock, 2 * entry);
                Array.Resize(ref _waitNext, 2 * entry);
            }
        }
        _waitPass[entry] = pass;
        _waitBlock[entry] = block;
        _waitNext[entry] = _chainWaiting[chain];
        _chainWaiting[chain] = entry;
    }

    private void Unlink(int chain, int previous, int entry)
    {
        if (previous < 0) _chainWaiting[chain] = _waitNext[entry];
        else _waitNext[previous] = _waitNext[entry];
        _waitNext[entry] = _waitFree;
        _waitFree = entry;
    }

    private void EnsureQueryCapacity(int count)
    {
        if (count <= _queries.Length) return;
        int size = Math.Max(count, 2 * _queries.Length);
        Array.Resize(ref _queries, size);
        Array.Resize(ref _answers, size);
        Array.Resize(ref _queryOwner, size);
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
    private struct Search(int chain, int pass, int block, int start, int length, int span)
    {
        public int Chain = chain;
        public int Pass = pass;
        public int Block = block;
        public int Node = 1;        // heap index within the block's tree
        public int Start = start;   // first pass position of the node
        public int Length = length; // positions the node covers (clipped to the block)
        public int Span = span;     // the node's power-of-two span in the tree
        public bool Done;           // found or abandoned; dropped after the round
    }
}
