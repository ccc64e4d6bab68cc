namespace Qkd.Distillation.ErrorCorrection.Ldpc;

/// <summary>
/// A quasi-cyclic LDPC code: a base matrix of <see cref="BaseRows"/> x <see cref="BaseColumns"/> whose non-empty
/// entries are z x z circulant permutation matrices (the identity rotated by the entry's shift), so the parity-check
/// matrix has <see cref="Checks"/> = BaseRows z rows and <see cref="Length"/> = BaseColumns z columns. Check
/// r z + j of base row r involves, through entry (r, c, s), variable c z + (j + s) mod z. The circulant structure is
/// what lets the decoder and the syndrome run over z consecutive checks at once (SIMD), and a code is fully described
/// by a few hundred shifts, so both ends build the same matrix from the same seed
/// (<see cref="QuasiCyclicCodeBuilder"/>).
/// </summary>
public sealed class QuasiCyclicCode
{
    private readonly int[] _rowStart;
    private readonly int[] _columns;
    private readonly int[] _shifts;

    /// <param name="rows">Per base row, its entries as (base column, shift) in increasing column order.</param>
    public QuasiCyclicCode(int circulantSize, int baseColumns, IReadOnlyList<IReadOnlyList<(int Column, int Shift)>> rows, double designRate, int[] punctureOrder, int[] positionOrder)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(circulantSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(baseColumns, 2);
        CirculantSize = circulantSize;
        BaseColumns = baseColumns;
        BaseRows = rows.Count;
        DesignRate = designRate;
        _rowStart = new int[BaseRows + 1];
        var columns = new List<int>();
        var shifts = new List<int>();
        for (int r = 0; r < BaseRows; r++)
        {
            _rowStart[r] = columns.Count;
            foreach (var (c, s) in rows[r])
            {
                if ((uint)c >= (uint)baseColumns) throw new ArgumentException($"Base row {r} names column {c} of {baseColumns}.");
                if ((uint)s >= (uint)circulantSize) throw new ArgumentException($"Base row {r} has shift {s}, circulants are {circulantSize} wide.");
                columns.Add(c);
                shifts.Add(s);
            }
        }
        _rowStart[BaseRows] = columns.Count;
        _columns = columns.ToArray();
        _shifts = shifts.ToArray();
        MaxRowWeight = Enumerable.Range(0, BaseRows).Max(r => _rowStart[r + 1] - _rowStart[r]);
        if (positionOrder.Length != Length)
            throw new ArgumentException($"The position order has {positionOrder.Length} entries for a code of length {Length}.");
        PunctureOrder = punctureOrder;
        PositionOrder = positionOrder;
    }

    /// <summary>z: the size of every circulant.</summary>
    public int CirculantSize { get; }

    public int BaseRows { get; }

    public int BaseColumns { get; }

    /// <summary>n: variables (codeword bits).</summary>
    public int Length => BaseColumns * CirculantSize;

    /// <summary>n - k: checks, i.e. syndrome bits.</summary>
    public int Checks => BaseRows * CirculantSize;

    /// <summary>The mother code's rate 1 - checks / n (the parity-check matrix has full rank or nearly so).</summary>
    public double DesignRate { get; }

    /// <summary>Non-empty circulants in the base matrix (edges of the Tanner graph / z).</summary>
    public int BaseEdges => _columns.Length;

    public int MaxRowWeight { get; }

    /// <summary>
    /// Variables that may be punctured, in the order they are punctured: chosen so that every one has a check whose
    /// other variables are all unpunctured (untainted puncturing, Elkouss, Martinez-Mateo and Martin 2012). Such a
    /// set is recoverable in one step, which also means the punctured columns of the matrix are linearly independent:
    /// given the syndrome and the key bits, the punctured bits are determined, so the syndrome discloses at most
    /// (syndrome bits - punctured bits) about the key.
    /// </summary>
    public int[] PunctureOrder { get; }

    /// <summary>
    /// Every variable once: first <see cref="PunctureOrder"/>, then the others in a seeded random order. A frame
    /// punctures the first p, shortens the next s and carries its key bits on the rest.
    /// </summary>
    public int[] PositionOrder { get; }

    public int RowEntryStart(int baseRow) => _rowStart[baseRow];

    public int RowEntryEnd(int baseRow) => _rowStart[baseRow + 1];

    public int EntryColumn(int entry) => _columns[entry];

    public int EntryShift(int entry) => _shifts[entry];

    /// <summary>
    /// The syndrome H x of a codeword given one byte (0 or 1) per variable, written one byte per check. Alice's
    /// message; Bob's stopping rule.
    /// </summary>
    public void Syndrome(ReadOnlySpan<byte> codeword, Span<byte> syndrome)
    {
        if (codeword.Length != Length) throw new ArgumentException($"{codeword.Length} codeword bits for a code of length {Length}.", nameof(codeword));
        if (syndrome.Length != Checks) throw new ArgumentException($"{syndrome.Length} syndrome slots for {Checks} checks.", nameof(syndrome));
        int z = CirculantSize;
        syndrome.Clear();
        for (int r = 0; r < BaseRows; r++)
        {
            var target = syndrome.Slice(r * z, z);
            for (int e = _rowStart[r]; e < _rowStart[r + 1]; e++)
            {
                var block = codeword.Slice(_columns[e] * z, z);
                int s = _shifts[e];
                // Check j takes variable (j + s) mod z: the block read from s, wrapping round to its start.
                XorInto(target[..(z - s)], block[s..]);
                XorInto(target[(z - s)..], block[..s]);
            }
        }
    }

    private static void XorInto(Span<byte> target, ReadOnlySpan<byte> source)
    {
        int i = 0;
        var vt = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(target);
        var vs = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, ulong>(source);
        int words = Math.Min(vt.Length, vs.Length);
        for (; i < words; i++) vt[i] ^= vs[i];
        for (i *= 8; i < target.Length; i++) target[i] ^= source[i];
    }
}
