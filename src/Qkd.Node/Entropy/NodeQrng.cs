using Microsoft.Extensions.Logging;
using Qkd.Emulation.Firmware;
using Qkd.Emulation.Hosting;
using Qkd.Hardware.Devices;
using Qkd.Hardware.RandomNumberGenerator;
using Qkd.Node.Devices;
using Qkd.Protocol;

namespace Qkd.Node.Entropy;

/// <summary>
/// Where a node's <see cref="QrngEntropySource"/> comes from: the QRNG device its configuration names, or the emulator's
/// QRNG behind the same driver. The source itself (health gating, mixing with the OS CSPRNG) is the device class's, in
/// Qkd.Hardware/RandomNumberGenerator.
/// </summary>
public static class NodeQrng
{
    /// <summary>
    /// The QRNG named by a node's devices section (<c>devices.randomNumberGenerator</c>), connected and streaming.
    /// </summary>
    /// <exception cref="DeviceException">The QRNG cannot be reached; the message names it.</exception>
    public static QrngEntropySource Open(DeviceAddress address, ILogger logger, EntropyMetrics? metrics = null,
        DeviceConnectionOptions? connectionOptions = null)
    {
        ArgumentNullException.ThrowIfNull(address);
        var qrng = new ProtocolRandomNumberGenerator(address.Connector(DeviceClass.RandomNumberGenerator), options: connectionOptions);
        return QrngEntropySource.Started(new QrngEntropySource(qrng, logger, metrics, owned: [qrng]));
    }

    /// <summary>
    /// An emulated QRNG in process behind the real driver (the emulator's <c>randomNumberGenerator</c> section), with
    /// its configured fault from power-up, connected and streaming. Its noise follows <paramref name="seed"/> (emulated
    /// physics are seeded); the key material is secret all the same, through the OS CSPRNG half of every draw.
    /// </summary>
    public static QrngEntropySource OpenEmulated(EmulatedQrngConfig config, ulong seed, ILogger logger, EntropyMetrics? metrics = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (config.Problem() is { } problem) throw new ArgumentException($"randomNumberGenerator: {problem}", nameof(config));
        var firmware = new EmulatedRandomNumberGeneratorFirmware(seed, "QRNG-EMU-0001");
        switch (config.Fault)
        {
            case "stuck": firmware.InjectStuck(); break;
            case "biased": firmware.InjectBias(config.ProbabilityOfOne); break;
        }
        var cable = new EmulatedDeviceConnector(firmware, EmulatedDeviceTransport.InProcess);
        var qrng = new ProtocolRandomNumberGenerator(cable, bufferBytes: 64 << 10);
        var source = new QrngEntropySource(qrng, logger, metrics, owned: [qrng, cable, firmware]);
        try
        {
            qrng.Connect();
            qrng.SetBlockSizeBytes(1_024);
            qrng.SetRateLimitBytesPerSecond(config.RateLimitBytesPerSecond);
        }
        catch
        {
            source.Dispose();
            throw;
        }
        return QrngEntropySource.Started(source);
    }
}
