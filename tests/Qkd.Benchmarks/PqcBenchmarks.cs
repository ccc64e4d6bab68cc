using System.Net;
using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Qkd.Pqc.Algorithms;
using Qkd.Pqc.Hybrid;
using Qkd.Pqc.Vehicle;

namespace Qkd.Benchmarks;

/// <summary>
/// Post-quantum costs: one hybrid key derivation (HKDF-SHA384 combiner, 32-byte key), one ML-KEM-768 encapsulation and
/// decapsulation (BouncyCastle on OpenSSL 3.0 machines), and vehicle keys over the channel on loopback (a session of
/// 256-key requests from an in-memory key source; per key, OperationsPerInvoke).
/// </summary>
[MemoryDiagnoser]
public class PqcBenchmarks
{
    private readonly byte[] _qkd = RandomNumberGenerator.GetBytes(32), _secret = RandomNumberGenerator.GetBytes(32), _output = new byte[32];
    private readonly byte[] _ciphertext = new byte[1088], _shared = new byte[32];
    private HybridContext _context;
    private KemKeyPair _pair = null!;
    private string _dir = null!;
    private VehicleGateway _gateway = null!;
    private VehicleKeyModule _module = null!;

    private sealed class EndlessKeys : IVehicleKeySource
    {
        public int KeyBytes => 32;

        public ValueTask<IReadOnlyList<VehicleKey>> TakeForVehicleAsync(string vehicleId, int count, CancellationToken cancellationToken) =>
            new(Enumerable.Range(0, count).Select(_ => new VehicleKey(Guid.NewGuid(), RandomNumberGenerator.GetBytes(32))).ToList());

        public ValueTask<VehicleKey> TakeSeedAsync(string vehicleId, CancellationToken cancellationToken) =>
            new(new VehicleKey(Guid.NewGuid(), RandomNumberGenerator.GetBytes(32)));
    }

    [GlobalSetup]
    public void Setup()
    {
        _pair = PostQuantum.MlKem768.GenerateKeyPair();
        PostQuantum.MlKem768.Encapsulate(_pair.EncapsulationKey, _ciphertext, _shared);
        _context = new HybridContext("etsi-014", Guid.NewGuid(), "sae-alice-1", "sae-bob-1", _ciphertext);
        _dir = Directory.CreateTempSubdirectory("qkd-bench-vehicle-").FullName;
        var registry = new VehicleRegistry(_dir, RandomNumberGenerator.GetBytes(32));
        string credentials = Path.Combine(_dir, "bench.vehicle.json");
        VehicleEnrolment.Save(VehicleEnrolment.Enrol(registry, "gw", "bench"), credentials);
        _gateway = new VehicleGateway(new IPEndPoint(IPAddress.Loopback, 0), registry, "gw", new EndlessKeys(), NullLogger.Instance);
        _gateway.Start();
        _module = VehicleKeyModule.ConnectAsync(credentials, "127.0.0.1", _gateway.LocalEndpoint.Port, CancellationToken.None).GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _module.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _gateway.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _pair.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Benchmark]
    public void HybridDerivation() => HybridKeyCombiner.Default.Combine(_qkd, _secret, _context, _output);

    [Benchmark]
    public void MlKemEncapsulate() => PostQuantum.MlKem768.Encapsulate(_pair.EncapsulationKey, _ciphertext, _shared);

    [Benchmark]
    public void MlKemDecapsulate() => PostQuantum.MlKem768.Decapsulate(_pair.PrivateSeed, _ciphertext, _shared);

    /// <summary>Per key: one 256-key request over the open session.</summary>
    [Benchmark(OperationsPerInvoke = 256)]
    public async Task VehicleKeys() => await _module.FetchAsync(256, CancellationToken.None);
}
