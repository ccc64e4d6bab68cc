using Qkd.Distillation.ErrorCorrection;

namespace Qkd.Distillation.Tests.ErrorCorrection;

/// <summary>The copies of raw key Cascade makes at both ends (frame copy, permuted pass copies) are zeroised when asked.</summary>
/// <remarks>
/// Zeroised arrays go back to <see cref="CascadeBuffers"/> for the next frame, so a Cascade test running beside this
/// one could take one and fill it before the assertions look: the class runs alone.
/// </remarks>
[Collection(nameof(CascadeBuffersCollection))]
public class CascadeZeroisationTests
{
    [Fact]
    public async Task Responder_and_corrector_copies_hold_key_bits_during_the_run_and_zeros_after_Zeroise()
    {
        var (alice, bob, _) = CascadeTestFrames.NoisyPair(20_000, 0.03, 5);
        var schedule = CascadeSchedule.Create(20_000, 0.03, 5, CascadeOptions.Default);
        var responder = new CascadeResponder(alice, schedule);
        var corrector = new CascadeCorrector(bob, schedule);
        var result = await corrector.RunAsync(new LocalParityOracle(responder), TestContext.Current.CancellationToken);
        Assert.True(result.PassesRun > 1);

        var responderCopies = responder.KeyCopies;
        var correctorCopies = corrector.PassCopies;
        Assert.True(responderCopies.Count > 1, "the responder built permuted pass copies");
        Assert.NotEmpty(correctorCopies);
        Assert.All(responderCopies, words => Assert.Contains(words, w => w != 0));
        Assert.All(correctorCopies, words => Assert.Contains(words, w => w != 0));

        responder.Zeroise();
        corrector.Zeroise();

        Assert.All(responderCopies, words => Assert.All(words, w => Assert.Equal(0UL, w)));
        Assert.All(correctorCopies, words => Assert.All(words, w => Assert.Equal(0UL, w)));
        Assert.Throws<InvalidOperationException>(() => responder.Answer([new ParityQuery(0, 0, 10)], new byte[1]));
    }
}

/// <summary>Tests that look at arrays after they went back to <see cref="CascadeBuffers"/>: run with no other test beside them.</summary>
[CollectionDefinition(nameof(CascadeBuffersCollection), DisableParallelization = true)]
public sealed class CascadeBuffersCollection;
