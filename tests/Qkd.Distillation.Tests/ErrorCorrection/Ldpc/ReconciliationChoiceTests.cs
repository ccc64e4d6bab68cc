using Qkd.Distillation.ErrorCorrection;

namespace Qkd.Distillation.Tests.ErrorCorrection.Ldpc;

public class ReconciliationChoiceTests
{
    [Fact]
    public void Auto_picks_ldpc_exactly_when_cascade_s_round_trips_outlast_the_block_s_light()
    {
        // 2 ms x 2,000 rounds = 4 s against a block of 1 s of light: LDPC. 20 us x 2,000 = 40 ms: Cascade.
        Assert.Equal(ReconciliationMethod.Ldpc, ReconciliationChoice.Choose(ReconciliationMethod.Auto, TimeSpan.FromMilliseconds(2), 2000, 1.0));
        Assert.Equal(ReconciliationMethod.Cascade, ReconciliationChoice.Choose(ReconciliationMethod.Auto, TimeSpan.FromMicroseconds(20), 2000, 1.0));
        Assert.Equal(ReconciliationMethod.Cascade, ReconciliationChoice.Choose(ReconciliationMethod.Auto, TimeSpan.FromMilliseconds(1), 1000, 1.0));
        Assert.Equal(ReconciliationMethod.Ldpc, ReconciliationChoice.Choose(ReconciliationMethod.Auto, TimeSpan.FromMilliseconds(1.01), 1000, 1.0));
    }

    [Fact]
    public void Auto_stays_on_cascade_until_something_is_measured_and_fixed_settings_are_kept()
    {
        Assert.Equal(ReconciliationMethod.Cascade, ReconciliationChoice.Choose(ReconciliationMethod.Auto, null, 2000, 1.0));
        Assert.Equal(ReconciliationMethod.Cascade, ReconciliationChoice.Choose(ReconciliationMethod.Auto, TimeSpan.FromSeconds(1), 2000, double.NaN));
        Assert.Equal(ReconciliationMethod.Ldpc, ReconciliationChoice.Choose(ReconciliationMethod.Ldpc, null, 0, double.NaN));
        Assert.Equal(ReconciliationMethod.Cascade, ReconciliationChoice.Choose(ReconciliationMethod.Cascade, TimeSpan.FromSeconds(1), 2000, 0.001));
    }

    [Fact]
    public void The_round_trip_is_the_smallest_recent_exchange()
    {
        var estimator = new RoundTripEstimator();
        Assert.Null(estimator.Current);
        long second = System.Diagnostics.Stopwatch.Frequency;
        estimator.Add(5 * second / 1000);
        estimator.Add(2 * second / 1000);
        estimator.Add(9 * second / 1000);
        Assert.Equal(2.0, estimator.Current!.Value.TotalMilliseconds, 3);
        // The window moves on: after 32 slower exchanges the old minimum is forgotten.
        for (int i = 0; i < RoundTripEstimator.Window; i++) estimator.Add(4 * second / 1000);
        Assert.Equal(4.0, estimator.Current!.Value.TotalMilliseconds, 3);
    }
}
