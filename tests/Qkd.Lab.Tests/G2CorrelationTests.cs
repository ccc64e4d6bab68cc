using System.Buffers.Binary;
using System.Text;
using Qkd.Core.TimeTags;

namespace Qkd.Lab.Tests;

/// <summary>
/// `qkd correlate` as a lab session: pulsed light known from the capture (a PicoQuant T3 file's sync rate, the sync
/// channel) or continuous; g2(0) with its uncertainty at the skewed peak; thin data refused; every report, refused
/// ones included, valid against its schema.
/// </summary>
public sealed class G2CorrelationTests : IDisposable
{
    private const double PeriodPs = 12_500;
    private const double SkewPs = -1_060;
    private readonly string _dir = Directory.CreateTempSubdirectory("qkd-g2").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>(pulse index, channel, ps after the pulse) of an attenuated laser (mean 0.1 photons) on a 50:50 HBT
    /// splitter, detectors of efficiency 0.4, channel 2's cable 1.06 ns shorter, 40 ps jitter.</summary>
    private static List<(long Pulse, ushort Channel, double OffsetPs)> LaserHbt(int seed, long pulses)
    {
        var random = new Random(seed);
        var clicks = new List<(long, ushort, double)>();
        for (long i = 0; i < pulses; i++)
        {
            // Poisson photon number by inversion.
            double u = random.NextDouble(), p = Math.Exp(-0.1), cumulative = p;
            int n = 0;
            while (u > cumulative) { n++; p *= 0.1 / n; cumulative += p; }
            bool first = false, second = false;
            for (int k = 0; k < n; k++)
            {
                double r = random.NextDouble();
                if (r < 0.2) first = true;
                else if (r < 0.4) second = true;
            }
            double Jitter() => 40 * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
            if (first) clicks.Add((i, 1, 5_000 + Jitter()));
            if (second) clicks.Add((i, 2, 5_000 + SkewPs + Jitter()));
        }
        return clicks;
    }

    private static LabCapture Capture(IEnumerable<TimeTag> tags, double? periodPs = null)
    {
        var sorted = tags.OrderBy(t => t.TimePs).ToArray();
        return new LabCapture(sorted, sorted.Length, "generated", null, null, null, null, null) { SourcePulsePeriodPs = periodPs, TruthKnown = false };
    }

    [Fact]
    public void A_pulsed_capture_reads_one_at_the_skewed_peak_and_its_report_conforms()
    {
        var clicks = LaserHbt(1, 1_000_000);
        var capture = Capture(clicks.Select(c => new TimeTag((long)Math.Round(c.Pulse * PeriodPs + c.OffsetPs), c.Channel)), PeriodPs);

        var report = G2Correlation.Run(capture, 1, 2, new G2Correlation.Options(), _dir);

        Assert.Null(report.Refusal);
        Assert.Equal("pulsed", report.Light);
        Assert.True(Math.Abs(report.G2AtZero!.Value - 1) < 3 * report.G2Uncertainty!.Value, $"g2(0) {report.G2AtZero} +- {report.G2Uncertainty}");
        Assert.InRange(report.ZeroDelayPs!.Value, SkewPs - 15, SkewPs + 15);
        Assert.Equal(20, report.SidePeaks);
        LabTestFiles.AssertConforms(LabReport.Serialize(report), G2Correlation.SchemaName);
        LabTestFiles.AssertPng(report.Plot);
    }

    [Fact]
    public void Sync_tags_say_the_light_is_pulsed_and_give_its_period()
    {
        var clicks = LaserHbt(2, 400_000);
        var tags = clicks.Select(c => new TimeTag((long)Math.Round(c.Pulse * PeriodPs + c.OffsetPs), c.Channel))
            .Concat(Enumerable.Range(0, 400_000).Select(i => new TimeTag((long)(i * PeriodPs), 0)));

        var report = G2Correlation.Run(Capture(tags), 1, 2, new G2Correlation.Options(), _dir);

        Assert.Equal("pulsed", report.Light);
        Assert.Equal(PeriodPs, report.PulsePeriodPs);
        Assert.Contains("sync channel 0", report.LightFrom);
        Assert.InRange(report.ZeroDelayPs!.Value, SkewPs - 20, SkewPs + 20);
    }

    [Fact]
    public void Continuous_light_reads_one_and_thin_data_is_refused_with_a_conforming_report()
    {
        var random = new Random(3);
        var tags = new List<TimeTag>();
        foreach (ushort channel in new ushort[] { 1, 2 })
            for (double t = 0; t < 1e10; t += -Math.Log(1 - random.NextDouble()) / 1e-5) tags.Add(new TimeTag((long)t, channel));

        var report = G2Correlation.Run(Capture(tags), 1, 2, new G2Correlation.Options(), _dir);
        Assert.Equal("continuous", report.Light);
        Assert.Null(report.Refusal);
        Assert.True(Math.Abs(report.G2AtZero!.Value - 1) < 3 * report.G2Uncertainty!.Value, $"g2(0) {report.G2AtZero} +- {report.G2Uncertainty}");
        LabTestFiles.AssertConforms(LabReport.Serialize(report), G2Correlation.SchemaName);

        var thin = G2Correlation.Run(Capture(tags.Where(t => t.TimePs < 1e8)), 1, 2, new G2Correlation.Options(), _dir);
        Assert.NotNull(thin.Refusal);
        Assert.Contains("times longer", thin.Refusal);
        Assert.Null(thin.G2AtZero);
        LabTestFiles.AssertConforms(LabReport.Serialize(thin), G2Correlation.SchemaName);

        // Told it is pulsed, continuous light shows no comb: refused, not a number.
        var notPulsed = G2Correlation.Run(Capture(tags.Where(t => t.TimePs < 1e9)), 1, 2, new G2Correlation.Options("pulsed", PeriodPs), _dir);
        Assert.Contains("no pulse comb", notPulsed.Refusal);
        LabTestFiles.AssertConforms(LabReport.Serialize(notPulsed), G2Correlation.SchemaName);

        Assert.Throws<ArgumentException>(() => G2Correlation.Run(Capture(tags), 1, 2, new G2Correlation.Options("pulsed"), _dir));
    }

    [Fact]
    public void A_sync_divided_hydraharp_t3_file_replays_in_order_and_its_g2_is_found_at_the_skewed_peak()
    {
        // HydraHarp v2 T3, 80 MHz laser divided by 8 at the sync input: the sync period is 100 ns, dtime (4 ps bins) is
        // measured from the divided sync and spans eight laser periods; records in sync order, channel 2 first.
        const int divider = 8;
        var clicks = LaserHbt(4, 1_600_000);
        var records = new List<uint>();
        long overflows = 0;
        foreach (var group in clicks.GroupBy(c => c.Pulse / divider).OrderBy(g => g.Key))
        {
            long sync = group.Key;
            while (sync - overflows * 1024 >= 1024)
            {
                long count = Math.Min(1023, (sync - overflows * 1024) / 1024);
                records.Add(1u << 31 | 63u << 25 | (uint)count);
                overflows += count;
            }
            foreach (var c in group.OrderByDescending(c => c.Channel))
            {
                uint dtime = (uint)Math.Round(((c.Pulse % divider) * PeriodPs + c.OffsetPs) / 4);
                records.Add((uint)(c.Channel - 1) << 25 | dtime << 10 | (uint)(sync - overflows * 1024));
            }
        }
        string file = Path.Combine(_dir, "hbt.ptu");
        File.WriteAllBytes(file, Ptu(0x01010304, divider * PeriodPs * 1e-12, 4e-12, 80_000_000, records));

        var capture = LabTagCapture.Capture(new LabCaptureOptions { ReplayFile = file });
        var report = G2Correlation.Run(capture, 1, 2, new G2Correlation.Options(), _dir);

        Assert.Equal(0, capture.TagsNotPlaced);
        Assert.Equal("pulsed", report.Light);
        Assert.Equal(PeriodPs, report.PulsePeriodPs!.Value, 6);
        Assert.Contains("header", report.LightFrom);
        Assert.Null(report.Refusal);
        Assert.InRange(report.ZeroDelayPs!.Value, SkewPs - 15, SkewPs + 15);
        Assert.True(Math.Abs(report.G2AtZero!.Value - 1) < 3 * report.G2Uncertainty!.Value, $"g2(0) {report.G2AtZero} +- {report.G2Uncertainty}");
        LabTestFiles.AssertConforms(LabReport.Serialize(report), G2Correlation.SchemaName);
    }

    /// <summary>A PTU file: magic, version, the header tags a reader needs, then the records (the PicoQuant layout).</summary>
    private static byte[] Ptu(uint recordType, double syncPeriodSeconds, double resolutionSeconds, long syncRate, List<uint> records)
    {
        var stream = new MemoryStream();
        stream.Write("PQTTTR\0\0"u8);
        stream.Write("1.0.00\0\0"u8);
        void Entry(string ident, uint type, long value)
        {
            var entry = new byte[48];
            Encoding.ASCII.GetBytes(ident, entry.AsSpan(0, 32));
            BinaryPrimitives.WriteInt32LittleEndian(entry.AsSpan(32), -1);
            BinaryPrimitives.WriteUInt32LittleEndian(entry.AsSpan(36), type);
            BinaryPrimitives.WriteInt64LittleEndian(entry.AsSpan(40), value);
            stream.Write(entry);
        }
        Entry("TTResultFormat_TTTRRecType", 0x10000008, recordType);
        Entry("MeasDesc_GlobalResolution", 0x20000008, BitConverter.DoubleToInt64Bits(syncPeriodSeconds));
        Entry("MeasDesc_Resolution", 0x20000008, BitConverter.DoubleToInt64Bits(resolutionSeconds));
        Entry("TTResult_SyncRate", 0x10000008, syncRate);
        Entry("TTResult_NumberOfRecords", 0x10000008, records.Count);
        Entry("Header_End", 0xFFFF0008, 0);
        var bytes = new byte[4];
        foreach (uint record in records)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(bytes, record);
            stream.Write(bytes);
        }
        return stream.ToArray();
    }
}
