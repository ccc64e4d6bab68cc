using Qkd.Hardware.RandomNumberGenerator;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using Microsoft.Extensions.Logging.Abstractions;
using Qkd.Core.Random;
using Qkd.Core.Symbols;
using Qkd.Node.Entropy;

namespace Qkd.Benchmarks;

/// <summary>
/// The modulator's symbol path (FillPacked of 2^21 pulses, 1 MiB packed) with and without re-keying, each call at the
/// next pulses of the stream so that re-keyed sources key their new epochs as the emission would:
/// - baseline: <see cref="SecureSymbolSource"/>, one OS CSPRNG key for the session;
/// - <see cref="RekeyedSymbolSource"/> under the OS CSPRNG alone, at the default 2^24-pulse epochs (a new key every
///   eighth call) and at 2^16-pulse epochs (32 new keys per call: the cost of a key shows);
/// - <see cref="RekeyedSymbolSource"/> keyed from the emulated QRNG behind its real driver (<see cref="QrngEntropySource"/>:
///   32 checked QRNG bytes mixed with 32 OS bytes by HKDF-SHA256 per key) at the default epochs.
/// Symbols per second = 2^21 / mean. Category "key draw": the fixed cost of one epoch key (32 bytes), from the OS CSPRNG
/// alone (baseline) and mixed as the QRNG source mixes (32 device bytes, 32 OS bytes, HKDF-SHA256; the device bytes are
/// a copy out of the driver's checked buffer on top). The emulated QRNG
/// streams (1 Mbit/s, a USB QRNG's order) only during its own cases, so its threads do not load the others.
/// Run (in process: the generated project's build times out on a loaded machine):
/// dotnet run -c Release --project tests/Qkd.Benchmarks -- --filter '*SymbolSource*' --inProcess --launchCount 1 --warmupCount 3 --iterationCount 10
/// </summary>
[MemoryDiagnoser]
[CategoriesColumn]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
public class SymbolSourceBenchmarks
{
    private const string Symbols = "symbols (2^21 pulses)";
    private const string KeyDraw = "key draw (32 bytes)";

    private const int PulsesPerCall = 1 << 21;

    private static readonly SymbolDistribution Distribution = new(0.75, [0.65, 0.25, 0.10]);

    private readonly byte[] _packed = new byte[PulsesPerCall / 2];
    private SecureSymbolSource _secure = null!;
    private RekeyedSymbolSource _rekeyedDefault = null!;
    private RekeyedSymbolSource _rekeyedShort = null!;
    private RekeyedSymbolSource? _rekeyedQrng;
    private QrngEntropySource? _qrng;
    private long _securePulse, _defaultPulse, _shortPulse, _qrngPulse;

    private readonly byte[] _key = new byte[32];
    private readonly byte[] _deviceBytes = new byte[32];

    [GlobalSetup]
    public void Setup()
    {
        _secure = new SecureSymbolSource(Distribution);
        _rekeyedDefault = new RekeyedSymbolSource(Distribution, OsEntropySource.Instance);
        _rekeyedShort = new RekeyedSymbolSource(Distribution, OsEntropySource.Instance, epochPulsesLog2: 16);
    }

    [GlobalSetup(Target = nameof(RekeyedQrng))]
    public void SetupQrng()
    {
        Setup();
        _qrng = NodeQrng.OpenEmulated(new EmulatedQrngConfig(), seed: 1, NullLogger.Instance);
        _qrng.WaitUntilHealthyAsync().WaitAsync(TimeSpan.FromMinutes(1)).GetAwaiter().GetResult();
        _rekeyedQrng = new RekeyedSymbolSource(Distribution, _qrng);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _secure.Dispose();
        _rekeyedDefault.Dispose();
        _rekeyedShort.Dispose();
        _rekeyedQrng?.Dispose();
        _qrng?.Dispose();
    }

    [Benchmark(Baseline = true, Description = "SecureSymbolSource (one session key)")]
    [BenchmarkCategory(Symbols)]
    public byte Secure() => Fill(_secure, ref _securePulse);

    [Benchmark(Description = "Rekeyed, OS CSPRNG, 2^24-pulse epochs")]
    [BenchmarkCategory(Symbols)]
    public byte RekeyedDefault() => Fill(_rekeyedDefault, ref _defaultPulse);

    [Benchmark(Description = "Rekeyed, OS CSPRNG, 2^16-pulse epochs")]
    [BenchmarkCategory(Symbols)]
    public byte RekeyedShort()
    {
        if (_rekeyedShort.KeyEpochs > 1 << 20)
        {
            // Keep the schedule's memory bounded over a long run (32 MiB of keys); a session's schedule is never this long.
            _rekeyedShort.Dispose();
            _rekeyedShort = new RekeyedSymbolSource(Distribution, OsEntropySource.Instance, epochPulsesLog2: 16);
            _shortPulse = 0;
        }
        return Fill(_rekeyedShort, ref _shortPulse);
    }

    [Benchmark(Description = "Rekeyed, emulated QRNG + OS, 2^24-pulse epochs")]
    [BenchmarkCategory(Symbols)]
    public byte RekeyedQrng() => Fill(_rekeyedQrng!, ref _qrngPulse);

    [Benchmark(Baseline = true, Description = "OS CSPRNG")]
    [BenchmarkCategory(KeyDraw)]
    public byte KeyFromOs()
    {
        OsEntropySource.Instance.FillKeyMaterial(_key);
        return _key[0];
    }

    [Benchmark(Description = "32 device bytes + 32 OS bytes, HKDF-SHA256 (EntropyMixer)")]
    [BenchmarkCategory(KeyDraw)]
    public byte KeyFromMixer()
    {
        EntropyMixer.MixWithOperatingSystem(_deviceBytes, "benchmark"u8, 1, _key);
        return _key[0];
    }

    private byte Fill(ISymbolSource source, ref long pulse)
    {
        source.FillPacked(pulse, _packed);
        pulse += PulsesPerCall;
        return _packed[^1];
    }
}
