using Qkd.Hardware.Peripherals;
using Qkd.Node.Devices;
using Qkd.ClassicalChannel;
using Qkd.Hardware.RandomNumberGenerator;
using Qkd.Lab.Run;
using System.Globalization;
using Qkd.Node.Link;

namespace Qkd.Cli.Commands;

/// <summary>The human-readable end-of-run summary (the JSON report carries everything in full).</summary>
internal static class RunSummary
{
    public static void Print(LinkReport r, TextWriter o)
    {
        var c = CultureInfo.InvariantCulture;
        string Pct(double? v) => v is double d ? d.ToString("P3", c) : "-";
        string Num(double? v, string format = "G4") => v is double d ? d.ToString(format, c) : "-";

        o.WriteLine();
        o.WriteLine($"Link summary ({r.Profile.FibreLengthKm.ToString(c)} km, {r.LinkSeconds.ToString("G4", c)} s of link time, {r.WallClockSeconds.ToString("F1", c)} s wall clock)");
        o.WriteLine($"  pulses sent          {r.PulsesSent.ToString("N0", c)}");
        o.WriteLine($"  detections           {r.Detections.ToString("N0", c)}");
        o.WriteLine($"  sifted bits          Z {r.SiftedBitsZ.ToString("N0", c)}   X {r.SiftedBitsX.ToString("N0", c)}" +
            (r.SiftedBitsZNotDistilled > 0 ? $"   ({r.SiftedBitsZNotDistilled.ToString("N0", c)} Z bits left over, not distilled)" : ""));
        o.WriteLine("  intensity   mu      gain          QBER X      QBER Z");
        foreach (var k in r.PerIntensity)
            o.WriteLine($"  {k.Intensity,-9} {k.MeanPhotonNumber.ToString("F4", c),7} {k.Gain.ToString("E3", c),11}   {Pct(k.ErrorRateX),9}   {Pct(k.ErrorRateZ),9}");
        o.WriteLine($"  QBER                 Z {Pct(r.QberZ)}   X {Pct(r.QberX)}");
        if (r.DecoyState is { } d)
            o.WriteLine($"  decoy bounds         Y1 >= {Num(d.SinglePhotonYieldLower, "E3")}   e1(X) <= {Pct(d.SinglePhotonErrorRateXUpper)}   phase error <= {Pct(d.PhaseErrorRateZUpper)}");
        if (r.FiniteKeyAnalysis is { } fk)
        {
            o.WriteLine($"  finite-key analysis  {fk.Analysis} ({fk.Citation})");
            o.WriteLine($"  epsilons             {string.Join("   ", fk.Epsilons.Select(e => $"{e.Name} {e.Value.ToString("G3", c)}"))}");
        }
        if (r.Blocks.Any(b => b.FiniteKey is not null))
        {
            // Every block, not only the last (often a small tail): the bounds and what each term of the key length cost.
            o.WriteLine("  block  outcome  sifted Z      s_Z,0 >=     s_Z,1 >=   e1(X) <=   phase <=   single-photon   EC leak       secrecy   key bits");
            foreach (var b in r.Blocks)
            {
                var f = b.FiniteKey;
                o.WriteLine($"  {b.BlockId,5}  {b.Outcome,-7}  {b.SiftedZ.ToString("N0", c),11}  {Num(f?.VacuumEventsZLower, "N0"),11}  {Num(f?.SinglePhotonEventsZLower, "N0"),11}" +
                    $"  {Pct(f?.SinglePhotonErrorRateXUpper),9}  {Pct(f?.PhaseErrorRateZUpper),9}  {Num(f?.SinglePhotonTerm, "N0"),14}  {Num(f?.ErrorCorrectionLeak, "N0"),11}" +
                    $"  {Num(f?.VerificationAndSecrecyCost, "N0"),8}  {b.SecretBits.ToString("N0", c),11}");
            }
        }
        o.WriteLine($"  error correction     {r.ErrorCorrection.Method}: {r.ErrorCorrection.LeakedBits.ToString("N0", c)} bits leaked, f = {Num(r.ErrorCorrection.Efficiency, "F3")}");
        var ec = r.Blocks.Where(b => b.ErrorCorrection is not null).Select(b => b.ErrorCorrection!).ToList();
        if (ec.Count > 0)
        {
            // Per block, the network's share: rounds times the round trip is what a distant peer costs, against the light time.
            double? roundTrip = ec.Select(e => e.RoundTripSeconds).LastOrDefault(t => t is not null);
            o.WriteLine($"  correction rounds    {ec.Sum(e => e.Rounds).ToString("N0", c)} in {ec.Count} blocks ({Num(ec.Average(e => e.Rounds), "F0")} per block)" +
                $"   waited {ec.Sum(e => e.WaitSeconds).ToString("F3", c)} s for replies" +
                (roundTrip is double rtt ? $"   round trip {(rtt * 1e3).ToString("F3", c)} ms" : ""));
        }
        o.WriteLine($"  verification         {r.Verification.BlocksPassed}/{r.Verification.BlocksVerified} blocks passed ({r.Verification.TagBits}-bit tags)");
        o.WriteLine($"  secret key           {r.SecretBits.ToString("N0", c)} bits   {(r.SecretKeyRateBitsPerSecond / 1e3).ToString("F2", c)} kb/s   {r.SecretKeyRateBitsPerPulse.ToString("E3", c)} bits/pulse");
        o.WriteLine($"  identical keys       {(r.IdenticalKeys ? "yes" : "NO")}   ({r.KeyFiles.BlocksStored} blocks in {Path.GetDirectoryName(r.KeyFiles.Alice)})");
        if (r.Monitor is { } monitor)
        {
            string learning = monitor.BlocksObserved < monitor.WarmupBlocks ? $", still learning its baselines ({monitor.WarmupBlocks} blocks)" : "";
            o.WriteLine($"  link monitor         {monitor.BlocksObserved} blocks watched{learning}, {monitor.Alarms.Count} alarm(s) (watch only: key not held)");
            foreach (var alarm in monitor.Alarms)
                o.WriteLine($"    ALARM {alarm.Kind} on block {alarm.BlockId}{(alarm.ClearedBlockId is long cleared ? $", cleared on block {cleared}" : "")}: {alarm.Message}");
        }
        if (r.Performance is { } perf)
        {
            o.WriteLine($"  real time            {perf.RealTimeFactor.ToString("F2", c)}x (link s per wall s, start-up included)" +
                (perf.SteadyStateRealTimeFactor is double steady ? $"   {steady.ToString("F2", c)}x after the first block (done at {Num(perf.FirstBlockWallClockSeconds, "F1")} s)" : ""));
            o.WriteLine($"  stage time (s)       {string.Join("   ", perf.Stages.Select(s => $"{s.Stage} {s.Seconds.ToString("F2", c)}"))}");
            if (perf.RingCapacity is int capacity)
                o.WriteLine($"  ring                 high water {(perf.RingFillHighWater ?? 0).ToString("N0", c)} of {capacity.ToString("N0", c)} tags   {(perf.RingDrops ?? 0).ToString("N0", c)} dropped");
        }
        if (r.Seeded)
            o.WriteLine($"  WARNING              {r.Warning ?? ChoiceSources.SeededWarning} (seed {r.Seed})");
        if (r.Recording is { Intact: false } damaged)
            o.WriteLine($"  RECORDING DAMAGED    {damaged.Summary()}; link time, gains and rates above are over the {damaged.CoveredSeconds.ToString("G4", c)} s it covers");
        if (r.Aborted)
            o.WriteLine($"  ABORTED              {r.Reason}");
        else if (r.SecretBits == 0)
            o.WriteLine($"  NO KEY               {r.Reason}");
    }
}
