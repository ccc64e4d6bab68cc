using System.Buffers.Binary;
using System.Text;
using BenchmarkDotNet.Attributes;
using Qkd.Acquisition.Replay;
using Qkd.Core.TimeTags;
using Qkd.Reference;

namespace Qkd.Benchmarks;

/// <summary>
/// Replay throughput in tags per second from memory (no disk in the measurement): writing and reading our time-tag
/// file format (delta encoding plus CRC-32C per chunk), and importing a PicoQuant HydraHarp v2 T3 stream.
/// </summary>
[MemoryDiagnoser]
public class ReplayBenchmarks
{
    private const int Tags = 1 << 20;
    private readonly TimeTag[] _tags = new TimeTag[Tags];
    private readonly TimeTag[] _batch = new TimeTag[4096];
    private readonly MemoryStream _output = new();
    private byte[] _file = [];
    private byte[] _ptu = [];

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        long t = 0;
        for (int i = 0; i < Tags; i++)
        {
            t += random.Next(1, 200_000);
            _tags[i] = new TimeTag(t, (ushort)random.Next(0, 5));
        }
        var stream = new MemoryStream();
        using (var writer = new TimeTagFileWriter(stream, Header(), leaveOpen: true)) writer.Write(_tags);
        _file = stream.ToArray();
        _ptu = BuildPtu(random);
    }

    [Benchmark(OperationsPerInvoke = Tags, Description = "time-tag file write")]
    public long Write()
    {
        _output.SetLength(0);
        using (var writer = new TimeTagFileWriter(_output, Header(), leaveOpen: true)) writer.Write(_tags);
        return _output.Length;
    }

    /// <summary>The reader as it was before issue 14 (<see cref="ReferenceTimeTagFileReader"/>): the baseline of <see cref="Read"/>.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Tags, Description = "time-tag file read (before issue 14)")]
    public long ReadBaseline()
    {
        using var reader = new ReferenceTimeTagFileReader(new MemoryStream(_file, writable: false), "bench.qtt");
        long sum = 0;
        int n;
        while ((n = reader.Read(_batch)) > 0) sum += _batch[n - 1].TimePs;
        return sum;
    }

    [Benchmark(OperationsPerInvoke = Tags, Description = "time-tag file read")]
    public long Read()
    {
        using var reader = new TimeTagFileReader(new MemoryStream(_file, writable: false), "bench.qtt");
        long sum = 0;
        int n;
        while ((n = reader.Read(_batch)) > 0) sum += _batch[n - 1].TimePs;
        return sum;
    }

    /// <summary>Per PTU record (each event record yields an event tag and usually a sync tag).</summary>
    [Benchmark(OperationsPerInvoke = Tags, Description = "PTU HydraHarp v2 T3 import")]
    public long ReadPtu()
    {
        using var reader = new PtuReader(new MemoryStream(_ptu, writable: false), "bench.ptu");
        long sum = 0;
        int n;
        while ((n = reader.Read(_batch)) > 0) sum += _batch[n - 1].TimePs;
        return sum;
    }

    private static TimeTagFileHeader Header() =>
        new(1, [new TimeTagChannelDescription(0, "sync", TimeTagChannelRole.Sync)], DateTimeOffset.UnixEpoch);

    private static byte[] BuildPtu(Random random)
    {
        var stream = new MemoryStream();
        stream.Write("PQTTTR\0\01.0.00\0\0"u8);
        void Entry(string ident, uint type, long value)
        {
            Span<byte> entry = stackalloc byte[48];
            entry.Clear();
            Encoding.ASCII.GetBytes(ident, entry[..32]);
            BinaryPrimitives.WriteInt32LittleEndian(entry[32..], -1);
            BinaryPrimitives.WriteUInt32LittleEndian(entry[36..], type);
            BinaryPrimitives.WriteInt64LittleEndian(entry[40..], value);
            stream.Write(entry);
        }
        Entry("TTResultFormat_TTTRRecType", 0x10000008, 0x01010304);
        Entry("MeasDesc_GlobalResolution", 0x20000008, BitConverter.DoubleToInt64Bits(12.5e-9));
        Entry("MeasDesc_Resolution", 0x20000008, BitConverter.DoubleToInt64Bits(1e-12));
        Entry("TTResult_NumberOfRecords", 0x10000008, Tags);
        Entry("Header_End", 0xFFFF0008, 0);
        Span<byte> record = stackalloc byte[4];
        uint nsync = 0;
        for (int i = 0; i < Tags; i++)
        {
            nsync += (uint)random.Next(0, 40);
            uint value = nsync >= 1024
                ? 1u << 31 | 63u << 25 | 1   // one sync-count overflow
                : (uint)random.Next(0, 4) << 25 | (uint)random.Next(0, 12_500) << 10 | nsync;
            if (nsync >= 1024) nsync -= 1024;
            BinaryPrimitives.WriteUInt32LittleEndian(record, value);
            stream.Write(record);
        }
        return stream.ToArray();
    }
}
