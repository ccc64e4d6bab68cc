using CsCheck;
using Qkd.Distillation.ErrorCorrection;

namespace Qkd.Distillation.Tests.Messages;

/// <summary>Parity rounds as Bob's multiplexer builds them: a group per asking frame, frames increasing.</summary>
internal static class Rounds
{
    public sealed record Group(int Frame, ParityQuery[] Queries, byte[] Parities);

    public static MultiplexedParityRound Build(int frameCount, IEnumerable<Group> groups)
    {
        var round = new MultiplexedParityRound(frameCount);
        foreach (var g in groups) round.Add(g.Frame, g.Queries, g.Parities);
        return round;
    }

    /// <summary>The groups of a round, copied out (parities included) for comparison.</summary>
    public static Group[] Groups(MultiplexedParityRound round) =>
        Enumerable.Range(0, round.GroupCount)
            .Select(g => new Group(round.FrameIndex(g), round.Queries(g).ToArray(), round.Parities(g).ToArray()))
            .ToArray();

    private static readonly Gen<ParityQuery> Queries =
        Gen.Select(Gen.Int[0, 1 << 16], Gen.Int[0, int.MaxValue], Gen.Int[0, int.MaxValue], (pass, start, length) => new ParityQuery(pass, start, length));

    /// <summary>
    /// A block of 1 to 12 frames and the round's groups: each frame asks 1 to 20 queries or sits the round out,
    /// at least one frame asks. Parities are random bits (Alice's answers, or zeros to be filled on Bob's side).
    /// </summary>
    public static readonly Gen<(int FrameCount, Group[] Groups)> Generate =
        Gen.Select(Queries.Array[1, 20], Gen.Bool, Gen.Byte[0, 1].Array[20]).Array[1, 12].Select(frames =>
        {
            var groups = new List<Group>();
            for (int f = 0; f < frames.Length; f++)
            {
                var (queries, asks, bits) = frames[f];
                if (asks || (f == frames.Length - 1 && groups.Count == 0))
                    groups.Add(new Group(f, queries, bits[..queries.Length]));
            }
            return (frames.Length, groups.ToArray());
        });

    public static bool SameQueries(Group[] a, Group[] b) =>
        a.Length == b.Length && a.Zip(b).All(p => p.First.Frame == p.Second.Frame && p.First.Queries.AsSpan().SequenceEqual(p.Second.Queries));
}
