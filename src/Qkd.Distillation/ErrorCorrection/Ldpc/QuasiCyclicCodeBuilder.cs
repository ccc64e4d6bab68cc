using Qkd.Core.Random;

namespace Qkd.Distillation.ErrorCorrection.Ldpc;

/// <summary>
/// Builds a <see cref="QuasiCyclicCode"/> from a profile, a circulant size and a seed, deterministically: the same
/// inputs give the same matrix on every machine (only integer arithmetic and xoshiro256** draws), which is how
/// Alice and Bob agree on the code without sending it.
/// </summary>
/// <remarks>
/// Two steps, as for protograph codes. (1) The base graph: the chain of degree-2 columns, then each information
/// column, highest degree first, joined to the base rows of lowest degree so far (ties broken by the seeded
/// generator), so that check degrees stay within one of each other; this is progressive edge growth on the base
/// graph with the degree as the only criterion (every pair of base nodes is at distance at most 2 at this size).
/// (2) The lift: each base edge gets a circulant shift drawn at random and redrawn until it closes no 4-cycle in the
/// lifted graph (for rows r, r' and columns c, c' all joined, s(r,c) - s(r,c') + s(r',c') - s(r',c) != 0 mod z),
/// so the Tanner graph has girth at least 6.
/// </remarks>
public static class QuasiCyclicCodeBuilder
{
    public static QuasiCyclicCode Build(LdpcCodeProfile profile, int circulantSize, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(profile);
        profile.Validate();
        int z = circulantSize, mb = profile.BaseRows, nb = profile.BaseColumns;
        var random = new Xoshiro256StarStar(seed);
        // Column order in the matrix: the information columns first, then the chain.
        var connected = new bool[mb, nb];
        var rowDegree = new int[mb];
        int column = 0;
        foreach (var (degree, count) in profile.InformationDegrees.OrderByDescending(d => d.Degree))
        {
            for (int i = 0; i < count; i++, column++)
            {
                for (int d = 0; d < degree; d++)
                {
                    int best = -1;
                    ulong bestKey = ulong.MaxValue;
                    for (int r = 0; r < mb; r++)
                    {
                        if (connected[r, column]) continue;
                        // Lowest degree first; the random low bits break ties.
                        ulong key = ((ulong)rowDegree[r] << 32) | (random.NextUInt64() >> 32);
                        if (key < bestKey) { bestKey = key; best = r; }
                    }
                    connected[best, column] = true;
                    rowDegree[best]++;
                }
            }
        }
        for (int r = 0; profile.Chain && r + 1 < mb; r++, column++)
        {
            connected[r, column] = true;
            connected[r + 1, column] = true;
        }

        // The lift: shifts that close no 4-cycle.
        var shift = new int[mb, nb];
        for (int r = 0; r < mb; r++)
            for (int c = 0; c < nb; c++)
                shift[r, c] = -1;
        for (int c = 0; c < nb; c++)
        {
            for (int r = 0; r < mb; r++)
            {
                if (!connected[r, c]) continue;
                int s = 0;
                for (int attempt = 0; attempt < 1000; attempt++)
                {
                    s = (int)(random.NextUInt64() % (ulong)z);
                    if (!ClosesFourCycle(shift, mb, nb, z, r, c, s)) break;
                }
                shift[r, c] = s;
            }
        }

        var rows = new List<IReadOnlyList<(int, int)>>(mb);
        for (int r = 0; r < mb; r++)
        {
            var entries = new List<(int, int)>();
            for (int c = 0; c < nb; c++)
                if (connected[r, c]) entries.Add((c, shift[r, c]));
            rows.Add(entries);
        }
        var (punctureOrder, positionOrder) = Positions(rows, mb, nb, z, random);
        return new QuasiCyclicCode(z, nb, rows, profile.Rate, punctureOrder, positionOrder);
    }

    private static bool ClosesFourCycle(int[,] shift, int mb, int nb, int z, int r, int c, int s)
    {
        for (int r2 = 0; r2 < mb; r2++)
        {
            if (r2 == r || shift[r2, c] < 0) continue;
            for (int c2 = 0; c2 < nb; c2++)
            {
                if (c2 == c || shift[r, c2] < 0 || shift[r2, c2] < 0) continue;
                int cycle = s - shift[r, c2] + shift[r2, c2] - shift[r2, c];
                if (((cycle % z) + z) % z == 0) return true;
            }
        }
        return false;
    }

    /// <summary>
    /// The untainted puncturing order (Elkouss, Martinez-Mateo and Martin 2012): repeatedly take, among variables
    /// none of whose checks has a punctured neighbour yet, one of lowest degree (seeded tie-break), and taint its
    /// checks' neighbours. Then every other variable in a seeded random order.
    /// </summary>
    private static (int[] Punctured, int[] Order) Positions(List<IReadOnlyList<(int Column, int Shift)>> rows, int mb, int nb, int z, Xoshiro256StarStar random)
    {
        int n = nb * z, m = mb * z;
        // Variable -> checks adjacency of the lifted graph.
        var columnDegree = new int[nb];
        foreach (var row in rows) foreach (var (c, _) in row) columnDegree[c]++;
        var checksOf = new int[n][];
        var filled = new int[n];
        for (int v = 0; v < n; v++) checksOf[v] = new int[columnDegree[v / z]];
        var varsOf = new int[m][];
        for (int r = 0; r < mb; r++)
        {
            var row = rows[r];
            for (int j = 0; j < z; j++)
            {
                int check = r * z + j;
                varsOf[check] = new int[row.Count];
                for (int e = 0; e < row.Count; e++)
                {
                    int v = row[e].Column * z + (j + row[e].Shift) % z;
                    varsOf[check][e] = v;
                    checksOf[v][filled[v]++] = check;
                }
            }
        }
        var candidates = Enumerable.Range(0, n).ToArray();
        Shuffle(candidates, random);
        // Stable by degree: low-degree variables are punctured first (they are recovered soonest), random within a degree.
        candidates = candidates.OrderBy(v => checksOf[v].Length).ToArray();
        var tainted = new bool[n];
        var checkHasPunctured = new bool[m];
        var punctured = new List<int>();
        var isPunctured = new bool[n];
        foreach (int v in candidates)
        {
            if (tainted[v]) continue;
            bool ok = true;
            foreach (int check in checksOf[v])
                if (checkHasPunctured[check]) { ok = false; break; }
            if (!ok) continue;
            punctured.Add(v);
            isPunctured[v] = true;
            foreach (int check in checksOf[v])
            {
                checkHasPunctured[check] = true;
                foreach (int w in varsOf[check]) tainted[w] = true;
            }
        }
        var rest = Enumerable.Range(0, n).Where(v => !isPunctured[v]).ToArray();
        Shuffle(rest, random);
        return (punctured.ToArray(), [.. punctured, .. rest]);
    }

    private static void Shuffle(int[] values, Xoshiro256StarStar random)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = (int)(random.NextUInt64() % (ulong)(i + 1));
            (values[i], values[j]) = (values[j], values[i]);
        }
    }
}
