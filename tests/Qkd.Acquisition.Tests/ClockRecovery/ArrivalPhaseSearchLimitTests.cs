namespace Qkd.Acquisition.Tests;

/// <summary>
/// The arrival phase search holds every folded tag until the phase is found (about 61 bytes each with its click), so its
/// size is capped at 2^20 tags (64 MB): above it the options are refused naming the setting, at it they are accepted.
/// </summary>
public sealed class ArrivalPhaseSearchLimitTests
{
    [Fact]
    public void A_search_above_2_to_the_20_tags_is_refused_naming_the_setting()
    {
        var good = new ClockRecoveryOptions();
        foreach (int tags in new[] { ClockRecoveryOptions.MaxArrivalPhaseSearchTags + 1, 1 << 24, -1 })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => (good with { ArrivalPhaseSearchTags = tags }).Validate());
            Assert.Equal(nameof(ClockRecoveryOptions.ArrivalPhaseSearchTags), e.ParamName);
            Assert.Contains(nameof(ClockRecoveryOptions.ArrivalPhaseSearchTags), e.Message);
            Assert.Contains("1048576", e.Message);
        }
        Assert.Equal(1 << 20, ClockRecoveryOptions.MaxArrivalPhaseSearchTags);
        (good with { ArrivalPhaseSearchTags = ClockRecoveryOptions.MaxArrivalPhaseSearchTags }).Validate();
        (good with { ArrivalPhaseSearchTags = 4096 }).Validate(); // what the node folds
    }
}
