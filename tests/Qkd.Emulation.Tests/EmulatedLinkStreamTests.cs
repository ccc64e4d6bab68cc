using Qkd.Core;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Emulation;

namespace Qkd.Emulation.Tests;

/// <summary>The contract of <see cref="EmulatedLink.Emit"/>: order, bounds, resumption and determinism.</summary>
public sealed class EmulatedLinkStreamTests
{
    /// <summary>Every feature on at once, so that every random stream is exercised.</summary>
    private static LinkProfile Busy(ReceiverLayout layout, EavesdropperSpec? eve = null) => LinkProfile.Default.WithDistance(5) with
    {
        ReceiverLayout = layout,
        AfterpulseProbability = 0.1,
        DarkCountProbabilityPerPulse = 1e-4,
        Eavesdropper = eve ?? EavesdropperSpec.InterceptResend(0.3),
    };

    private static EmulatedLink Create(LinkProfile profile, ulong seed, ulong symbolSeed = 77, TransmitterLight? light = null) =>
        new(profile, light ?? DefaultLink.Light, new SeededSymbolSource(symbolSeed, DefaultLink.Alice), seed);

    private static DetectorClick[] EmitAll(EmulatedLink link, long end)
    {
        var all = new List<DetectorClick>();
        var buffer = new DetectorClick[4096];
        int n;
        while ((n = link.Emit(buffer, end)) > 0)
            all.AddRange(buffer.AsSpan(0, n));
        return all.ToArray();
    }

    public static TheoryData<ReceiverLayout, string> Attacks()
    {
        var data = new TheoryData<ReceiverLayout, string>();
        foreach (ReceiverLayout layout in (ReceiverLayout[])[ReceiverLayout.PassiveFourDetector, ReceiverLayout.ActiveTwoDetector])
            foreach (string eve in (string[])["none", "intercept-resend:0.3", "pns:0.5", "pns"])
                data.Add(layout, eve);
        return data;
    }

    [Theory]
    [MemberData(nameof(Attacks))]
    public void Same_seed_gives_the_same_stream_whatever_the_span_sizes_and_end_points(ReceiverLayout layout, string eve)
    {
        LinkProfile profile = Busy(layout, EavesdropperSpec.Parse(eve));
        const long end = 3_000_000;
        DetectorClick[] reference = EmitAll(Create(profile, 42), end);
        Assert.True(reference.Length > 10_000);

        // Same seed, tiny and irregular spans, and intermediate end points that cut the run anywhere.
        var link = Create(profile, 42);
        var chunks = new Xoshiro256StarStar(1);
        var collected = new List<DetectorClick>();
        var buffer = new DetectorClick[97];
        long stop = 0;
        while (stop < end)
        {
            stop = Math.Min(end, stop + 1 + (long)(chunks.NextUInt64() % 40_000));
            while (true)
            {
                int span = 1 + (int)(chunks.NextUInt64() % 97);
                int n = link.Emit(buffer.AsSpan(0, span), stop);
                collected.AddRange(buffer.AsSpan(0, n));
                if (n < span) break;
            }
            Assert.Equal(stop, link.PulsesEmitted);
        }
        Assert.Equal(reference, collected.ToArray());

        // Another emulator seed gives another stream.
        DetectorClick[] other = EmitAll(Create(profile, 43), end);
        Assert.NotEqual(reference, other);
    }

    [Theory]
    [MemberData(nameof(Attacks))]
    public void Clicks_come_in_strictly_increasing_pulse_order_below_the_end_with_valid_channels(ReceiverLayout layout, string eve)
    {
        LinkProfile profile = Busy(layout, EavesdropperSpec.Parse(eve));
        var link = Create(profile, 7);
        const long end = 2_000_000;
        DetectorClick[] clicks = EmitAll(link, end);
        int detectors = layout.DetectorCount();
        long previous = -1;
        foreach (DetectorClick click in clicks)
        {
            Assert.True(click.PulseIndex > previous, $"pulse {click.PulseIndex} after {previous}");
            Assert.True(click.PulseIndex < end);
            Assert.True(click.ChannelMask != 0 && click.ChannelMask < 1 << detectors, $"mask {click.ChannelMask}");
            if (layout == ReceiverLayout.PassiveFourDetector) Assert.Equal(Basis.Z, click.ActiveBasis);
            previous = click.PulseIndex;
        }
        Assert.Equal(end, link.PulsesEmitted);
        Assert.Equal(clicks.Length, link.Counters.Clicks);
        Assert.Equal(0, link.Emit(new DetectorClick[16], end));
        Assert.Equal(end, link.PulsesEmitted);
    }

    [Fact]
    public void A_full_span_stops_right_after_its_last_click_and_an_empty_span_does_nothing()
    {
        var link = Create(Busy(ReceiverLayout.PassiveFourDetector), 1);
        Assert.Equal(0, link.Emit(Span<DetectorClick>.Empty, long.MaxValue));
        Assert.Equal(0, link.PulsesEmitted);

        var buffer = new DetectorClick[10];
        Assert.Equal(10, link.Emit(buffer, long.MaxValue));
        Assert.Equal(buffer[9].PulseIndex + 1, link.PulsesEmitted);
        Assert.Equal(0, link.Emit(buffer, link.PulsesEmitted));
        Assert.Equal(0, link.Emit(buffer, 0));
    }

    [Fact]
    public void Active_receiver_reports_both_basis_settings_in_the_configured_ratio()
    {
        LinkProfile profile = LinkProfile.Default with { ReceiverLayout = ReceiverLayout.ActiveTwoDetector, BobProbabilityZ = 0.7 };
        DetectorClick[] clicks = EmitAll(Create(profile, 3), 5_000_000);
        long z = clicks.LongCount(c => c.ActiveBasis == Basis.Z);
        // P(click) does not depend on the setting, so the setting of clicked pulses keeps its prior.
        Stat.WithinBinomial(0.7, z, clicks.Length, what: "active Z setting among clicks");
    }

    [Fact]
    public void Time_stamps_follow_the_pulse_clock_fibre_delay_drift_and_offset()
    {
        LinkProfile profile = LinkProfile.Default.WithDistance(25) with
        {
            TimingJitterRmsPs = 0,
            ClockDriftPpm = -7.5,
            ClockOffsetPs = 123_456_789,
        };
        var link = Create(profile, 5, light: DefaultLink.Light with { PulseRateHz = 1.25e9 });
        // Jump far ahead to check that large pulse indices keep picosecond accuracy.
        var clicks = new DetectorClick[2000];
        int n = link.Emit(clicks, 4_000_000);
        Assert.True(n > 100);
        decimal period = 1e12m / 1.25e9m;
        decimal delay = 25m * 1000m * 1.468m / 299_792_458m * 1e12m;
        decimal rate = 1m + -7.5m * 1e-6m;
        foreach (DetectorClick click in clicks.AsSpan(0, n))
        {
            decimal expected = (click.PulseIndex * period + delay) * rate + 123_456_789m;
            Assert.True(Math.Abs(click.TimePs - expected) <= 1m, $"pulse {click.PulseIndex}: {click.TimePs} vs {expected}");
        }
    }

    [Fact]
    public void Time_stamps_are_exact_for_pulse_indices_of_a_long_run()
    {
        // 1e14 pulses is a day at 1 GHz: far beyond what a double holds to the picosecond.
        LinkProfile profile = LinkProfile.Default with { ClockDriftPpm = 3.3, FibreLengthKm = 0 };
        var clock = new BobClock(profile, 3e9);
        decimal period = 1e12m / 3e9m;
        for (long pulse = 100_000_000_000_000; pulse < 100_000_000_000_000 + 50; pulse += 7)
        {
            decimal expected = pulse * period * (1m + 3.3e-6m) + 1_000_000m;
            Assert.True(Math.Abs(clock.TimeAt(pulse, 0) - expected) <= 0.5m + 1e-6m, $"pulse {pulse}: {clock.TimeAt(pulse, 0)} vs {expected}");
        }
    }

    [Fact]
    public void Any_symbol_source_implementation_gives_the_same_stream_as_the_seeded_one()
    {
        LinkProfile profile = Busy(ReceiverLayout.PassiveFourDetector);
        var seeded = new SeededSymbolSource(77, DefaultLink.Alice);
        DetectorClick[] direct = EmitAll(new EmulatedLink(profile, DefaultLink.Light, seeded, 9), 1_000_000);
        DetectorClick[] wrapped = EmitAll(new EmulatedLink(profile, DefaultLink.Light, new WrappedSymbolSource(seeded), 9), 1_000_000);
        Assert.Equal(direct, wrapped);
    }

    [Fact]
    public void Jitter_is_gaussian_with_the_configured_rms()
    {
        LinkProfile profile = LinkProfile.Default with { TimingJitterRmsPs = 40, ClockDriftPpm = 0, FibreLengthKm = 0, ClockOffsetPs = 0 };
        DetectorClick[] clicks = EmitAll(Create(profile, 8), 20_000_000);
        double[] residuals = clicks.Select(c => (double)(c.TimePs - c.PulseIndex * 1000)).ToArray();
        double mean = residuals.Average();
        double rms = Math.Sqrt(residuals.Select(r => (r - mean) * (r - mean)).Average());
        int n = residuals.Length;
        Assert.True(n > 100_000);
        Assert.InRange(mean, -4 * 40 / Math.Sqrt(n), 4 * 40 / Math.Sqrt(n));
        // Rounding to whole picoseconds adds 1/12 ps^2 of variance; sd of the sample rms is ~ sigma / sqrt(2n).
        double expectedRms = Math.Sqrt(40 * 40 + 1.0 / 12);
        Assert.InRange(rms, expectedRms - 4 * 40 / Math.Sqrt(2 * n), expectedRms + 4 * 40 / Math.Sqrt(2 * n));
        // Shape, not just width: the share within one rms (whole picoseconds, so |X| < 40.5) is 2 Phi(40.5/40) - 1.
        double inside = 2 * StandardNormalCdf(40.5 / 40) - 1;
        Stat.WithinBinomial(inside, residuals.LongCount(r => Math.Abs(r) <= 40), n, what: "share of clicks within one rms");
        double inside2 = 2 * StandardNormalCdf(80.5 / 40) - 1;
        Stat.WithinBinomial(inside2, residuals.LongCount(r => Math.Abs(r) <= 80), n, what: "share of clicks within two rms");
    }

    [Fact]
    public void Constructor_rejects_bad_arguments()
    {
        var source = new SeededSymbolSource(1, DefaultLink.Alice);
        Assert.Throws<ArgumentNullException>(() => new EmulatedLink(null!, DefaultLink.Light, source, 1));
        Assert.Throws<ArgumentNullException>(() => new EmulatedLink(LinkProfile.Default, null!, source, 1));
        Assert.Throws<ArgumentNullException>(() => new EmulatedLink(LinkProfile.Default, DefaultLink.Light, null!, 1));
        var ex = Assert.Throws<LinkProfileException>(() => new EmulatedLink(LinkProfile.Default with { FibreLengthKm = -1 }, DefaultLink.Light, source, 1));
        Assert.Equal("fibreLengthKm", ex.Field);
        // The light is checked too: a decoy level above the signal's is no decoy-state source.
        ex = Assert.Throws<LinkProfileException>(() => new EmulatedLink(LinkProfile.Default, DefaultLink.Light with { DecoyMeanPhotonNumber = 0.6 }, source, 1));
        Assert.Equal("signalMeanPhotonNumber", ex.Field);
    }

    /// <summary>Phi(x) by Simpson's rule on the density from 0 (accurate to ~1e-12 for |x| &lt; 6).</summary>
    internal static double StandardNormalCdf(double x)
    {
        const int steps = 20_000;
        double h = x / steps, sum = 0;
        for (int i = 0; i <= steps; i++)
        {
            double f = Math.Exp(-0.5 * (i * h) * (i * h));
            sum += (i == 0 || i == steps ? 1 : i % 2 == 1 ? 4 : 2) * f;
        }
        return 0.5 + sum * h / 3 / Math.Sqrt(2 * Math.PI);
    }

    /// <summary>A symbol source that is not a SeededSymbolSource, to exercise the interface path.</summary>
    private sealed class WrappedSymbolSource(ISymbolSource inner) : ISymbolSource
    {
        public SymbolDistribution Distribution => inner.Distribution;

        public PulseSymbol SymbolAt(long pulseIndex) => inner.SymbolAt(pulseIndex);
    }
}
