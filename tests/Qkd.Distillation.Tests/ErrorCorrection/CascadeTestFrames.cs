using Qkd.Core.Bits;
using Qkd.Core.Random;
using Qkd.Distillation.ErrorCorrection;

namespace Qkd.Distillation.Tests.ErrorCorrection;

/// <summary>Seeded frame pairs for Cascade tests: Alice's random bits and Bob's copy with i.i.d. errors.</summary>
internal static class CascadeTestFrames
{
    public static PackedBits RandomFrame(int length, ulong seed)
    {
        var random = new Xoshiro256StarStar(seed);
        var words = new ulong[PackedBits.WordCount(length)];
        for (int i = 0; i < words.Length; i++) words[i] = random.NextUInt64();
        return PackedBits.FromWords(words, length);
    }

    /// <summary>
    /// Alice's frame and Bob's copy with each bit flipped independently with probability <paramref name="qber"/>
    /// (gaps between errors drawn geometrically, so a million-bit frame costs only its errors).
    /// </summary>
    public static (PackedBits Alice, PackedBits Bob, int Errors) NoisyPair(int length, double qber, ulong seed)
    {
        var alice = RandomFrame(length, seed);
        var bob = alice.Clone();
        var random = new Xoshiro256StarStar(seed ^ 0x5EED_0F_E770_25UL);
        double logKeep = Math.Log(1 - qber);
        int errors = 0;
        for (long position = -1; ;)
        {
            double u = 1 - random.NextDouble(); // (0, 1]
            position += 1 + (long)Math.Floor(Math.Log(u) / logKeep);
            if (position >= length) break;
            bob.Flip(position);
            errors++;
        }
        return (alice, bob, errors);
    }

    /// <summary>Runs Cascade in process and returns the result, the responder and the counting oracle.</summary>
    public static async Task<(CascadeResult Result, CascadeResponder Responder, CountingParityOracle Oracle)> ReconcileAsync(
        PackedBits alice, PackedBits bob, double qberEstimate, ulong seed, CascadeOptions? options = null)
    {
        var schedule = CascadeSchedule.Create(checked((int)alice.Length), qberEstimate, seed, options ?? CascadeOptions.Default);
        var responder = new CascadeResponder(alice, schedule);
        var oracle = new CountingParityOracle(new LocalParityOracle(responder));
        var result = await new CascadeCorrector(bob, schedule).RunAsync(oracle, TestContext.Current.CancellationToken);
        return (result, responder, oracle);
    }
}

/// <summary>Counts what crosses the (simulated) channel: oracle calls and parities answered.</summary>
internal sealed class CountingParityOracle(IParityOracle inner) : IParityOracle
{
    public int Calls { get; private set; }

    public long ParitiesReceived { get; private set; }

    public int LargestBatch { get; private set; }

    public async ValueTask AnswerAsync(ReadOnlyMemory<ParityQuery> queries, Memory<byte> parities, CancellationToken cancellationToken)
    {
        await inner.AnswerAsync(queries, parities, cancellationToken);
        Calls++;
        ParitiesReceived += parities.Length;
        LargestBatch = Math.Max(LargestBatch, queries.Length);
    }
}
