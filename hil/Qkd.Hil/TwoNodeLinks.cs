namespace Qkd.Hil;

/// <summary>
/// The two-node link tests run alone: each starts two whole nodes on a bench of emulated devices behind
/// pseudo-terminals (seconds of CPU on every core), and run beside the scenario suite on a loaded 2-core machine the
/// active-receiver pair did not come within the test's time.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public static class TwoNodeLinks
{
    public const string Name = "two-node links";
}
