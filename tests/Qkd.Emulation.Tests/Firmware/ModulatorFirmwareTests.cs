using Qkd.Core;
using Qkd.Core.Symbols;
using Qkd.Emulation.Firmware;
using Qkd.Protocol;
using Qkd.Protocol.Messages;

namespace Qkd.Emulation.Tests.Firmware;

/// <summary>The emulated modulator: emission start/stop, symbol stream into the FIFO, gaps, interlock, bias lock.</summary>
public sealed class ModulatorFirmwareTests
{
    private const DeviceClass Modulator = DeviceClass.LaserModulator;

    private static (EmulatedLaserModulatorFirmware Device, FirmwareTestHost Host) Attach(int fifoBlocks = 128)
    {
        var device = new EmulatedLaserModulatorFirmware(clock: new ManualDeviceClock(), fifoBlocks: fifoBlocks);
        (FirmwareTestHost host, var deviceEnd) = FirmwareTestHost.Connect("modulator");
        device.Plug(deviceEnd);
        return (device, host);
    }

    internal static byte[] StartPayload(long firstPulse)
    {
        var payload = new byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(payload, firstPulse);
        return payload;
    }

    /// <summary>Sends the symbols of pulses [from, to) of <paramref name="symbols"/> as SymbolData frames.</summary>
    internal static uint SendSymbols(FirmwareTestHost host, ISymbolSource symbols, long from, long to, uint sequence, int perFrame = SymbolBlockCodec.MaxSymbolsPerFrame)
    {
        var unpacked = new byte[perFrame];
        var payload = new byte[SymbolBlockCodec.PayloadLength(perFrame)];
        for (long first = from; first < to; first += perFrame)
        {
            int count = (int)Math.Min(perFrame, to - first);
            for (int i = 0; i < count; i++) unpacked[i] = symbols.SymbolAt(first + i).Pack();
            SymbolBlockCodec.WriteHeader(payload, first);
            SymbolBlockCodec.Pack(unpacked.AsSpan(0, count), payload.AsSpan(SymbolBlockCodec.HeaderLength));
            host.Send(new FrameHeader(Modulator, MessageType.ModulatorSymbolData, FrameFlags.Stream, sequence++, 0),
                payload.AsSpan(0, SymbolBlockCodec.PayloadLength(count)));
        }
        return sequence;
    }

    [Fact]
    public void Emission_streams_symbols_into_the_fifo_and_stop_reports_the_summary()
    {
        (EmulatedLaserModulatorFirmware device, FirmwareTestHost host) = Attach();
        using (device)
        using (host)
        {
            var symbols = new SeededSymbolSource(3, new SymbolDistribution(0.75, [0.65, 0.25, 0.10]));
            Assert.Empty(host.Request(Modulator, MessageType.ModulatorStartEmission, StartPayload(1000)).Payload);
            Assert.True(device.IsEmitting);
            ReceivedFrame refused = host.Request(Modulator, MessageType.ModulatorStartEmission, StartPayload(5));
            Assert.Equal(ErrorCode.InvalidState, refused.Nack.Code);
            Assert.Contains("already emitting", refused.Nack.Text);

            uint next = SendSymbols(host, symbols, 1000, 1000 + 300_000, 0, perFrame: 100_000);
            Assert.Equal(3u, next);
            StreamSummary summary = StreamSummary.Read(host.Request(Modulator, MessageType.ModulatorStopEmission).Payload);
            Assert.Equal(300_000ul, summary.Items);
            Assert.Equal(3u, summary.Frames);
            Assert.False(device.IsEmitting);

            ModulatorSymbolFifo fifo = device.LastEmission!;
            Assert.Equal(1000, fifo.FirstPulse);
            Assert.Equal(300_000, fifo.EndPulse);
            for (long i = 0; i < 300_000; i += 997) Assert.Equal(symbols.SymbolAt(1000 + i), fifo.SymbolAt(i));
            Assert.Equal(Intensity.Vacuum, fifo.SymbolAt(300_000).Intensity); // after the end: dark
            Assert.Equal(0, fifo.PulsesLost);

            AssertMalformed(host.Request(Modulator, MessageType.ModulatorStartEmission, new byte[7]), "ModulatorStartEmission");
            Assert.Equal(ErrorCode.OutOfRange, host.Request(Modulator, MessageType.ModulatorStartEmission, StartPayload(-1)).Nack.Code);
        }
    }

    private static void AssertMalformed(ReceivedFrame response, string field)
    {
        Assert.Equal(ErrorCode.MalformedPayload, response.Nack.Code);
        Assert.Contains(field, response.Nack.Text);
    }

    [Fact]
    public void A_gap_in_the_stream_is_vacuum_counted_and_reported_and_missing_sequence_numbers_are_counted()
    {
        (EmulatedLaserModulatorFirmware device, FirmwareTestHost host) = Attach();
        using (device)
        using (host)
        {
            var symbols = new SeededSymbolSource(4, new SymbolDistribution(0.5, [0.5, 0.3, 0.2]));
            host.Request(Modulator, MessageType.ModulatorStartEmission, StartPayload(0));
            SendSymbols(host, symbols, 0, 1000, 0);
            SendSymbols(host, symbols, 1500, 2000, 3); // pulses 1000..1499 never sent; sequence 1 and 2 missing
            StreamSummary summary = StreamSummary.Read(host.Request(Modulator, MessageType.ModulatorStopEmission).Payload);
            Assert.Equal(1500ul, summary.Items);

            ReceivedFrame overflow = host.SetAside.Single(f => f.Header.Type == MessageType.Overflow);
            OverflowReport report = OverflowReport.Read(overflow.Payload);
            Assert.Equal(500ul, report.ItemsLost);
            Assert.Equal(1_000_000, report.BeginPs); // pulse 1000 at 1 GHz
            Assert.Equal(1_500_000, report.EndPs);

            DeviceStatus status = DeviceStatus.Read(host.Request(Modulator, MessageType.GetStatus).Payload);
            Assert.Equal(500ul, status.ItemsLost);
            Assert.Equal(2ul, status.StreamFramesMissed);
            Assert.True((status.Flags & StatusFlags.DataLost) != 0);

            ModulatorSymbolFifo fifo = device.LastEmission!;
            Assert.Equal(symbols.SymbolAt(999), fifo.SymbolAt(999));
            Assert.Equal(Intensity.Vacuum, fifo.SymbolAt(1000).Intensity);
            Assert.Equal(Intensity.Vacuum, fifo.SymbolAt(1499).Intensity);
            Assert.Equal(symbols.SymbolAt(1500), fifo.SymbolAt(1500));
            Assert.Equal(symbols.SymbolAt(1999), fifo.SymbolAt(1999));
        }
    }

    [Fact]
    public void Interlock_refuses_emission_and_ends_a_running_one()
    {
        (EmulatedLaserModulatorFirmware device, FirmwareTestHost host) = Attach();
        using (device)
        using (host)
        {
            device.OpenInterlock();
            ReceivedFrame refused = host.Request(Modulator, MessageType.ModulatorStartEmission, StartPayload(0));
            Assert.Equal(ErrorCode.InterlockOpen, refused.Nack.Code);
            Assert.Contains("interlock", refused.Nack.Text);
            device.CloseInterlock();
            Assert.False(host.Request(Modulator, MessageType.ModulatorStartEmission, StartPayload(0)).Header.IsNack);
            SendSymbols(host, new SeededSymbolSource(1, new SymbolDistribution(0.5, [0.5, 0.3, 0.2])), 0, 2000, 0);
            host.Request(Modulator, MessageType.Ping); // the symbols are in
            device.OpenInterlock();
            Assert.False(device.IsEmitting);
            Assert.Equal(2000, device.LastEmission!.EndPulse);
            Assert.Equal(0u, (uint)(device.Flags & StatusFlags.Running));
        }
    }

    [Fact]
    public void Bias_lock_loss_is_reported_and_read_back()
    {
        (EmulatedLaserModulatorFirmware device, FirmwareTestHost host) = Attach();
        using (device)
        using (host)
        {
            Assert.Equal(1, host.Get(Modulator, ParameterId.ModulatorBiasLocked));
            device.LoseBiasLock();
            StatusChange change = StatusChange.Read(host.Next()!.Payload);
            Assert.True((change.Before & StatusFlags.BiasLocked) != 0);
            Assert.Equal(0u, (uint)(change.After & StatusFlags.BiasLocked));
            Assert.Equal(0, host.Get(Modulator, ParameterId.ModulatorBiasLocked));
            device.RegainBiasLock();
            Assert.Equal(1, host.Get(Modulator, ParameterId.ModulatorBiasLocked));
            host.Set(Modulator, ParameterId.ModulatorBiasDacCode, 0, 1234); // a manual code opens the loop
            Assert.Equal(0, host.Get(Modulator, ParameterId.ModulatorBiasLocked));
        }
    }

    [Fact]
    public void Fifo_pushes_back_on_the_writer_and_frees_blocks_behind_the_reader()
    {
        var fifo = new ModulatorSymbolFifo(0, new SymbolDistribution(0.5, [0.5, 0.3, 0.2]), capacityBlocks: 2);
        var symbols = new SeededSymbolSource(9, fifo.Distribution);
        const int total = 1_000_000; // ~7.6 blocks of 131072 pulses through a 2-block ring
        var unpacked = new byte[total];
        for (int i = 0; i < total; i++) unpacked[i] = symbols.SymbolAt(i).Pack();
        var packed = new byte[total / 2];
        SymbolBlockCodec.Pack(unpacked, packed);
        var writer = Task.Run(() =>
        {
            for (int at = 0; at < packed.Length; at += 10_000)
                Assert.True(fifo.Write(2L * at, packed.AsSpan(at, Math.Min(10_000, packed.Length - at)), out long gap) && gap == 0);
            fifo.Complete();
        }, TestContext.Current.CancellationToken);
        // Nobody reads yet: the writer fills the two blocks and has to wait.
        Assert.True(SpinWait.SpinUntil(() => fifo.WriterWaits > 0, TimeSpan.FromSeconds(10)), "the writer never waited for room");
        for (long i = 0; i < total; i += 13) Assert.Equal(symbols.SymbolAt(i), fifo.SymbolAt(i));
        writer.Wait(TestContext.Current.CancellationToken);
        Assert.Equal(total, fifo.EndPulse);
        Assert.Throws<ArgumentOutOfRangeException>(() => fifo.SymbolAt(5));
    }

    [Fact]
    public void Fifo_sends_invalid_intensity_as_vacuum_and_counts_it()
    {
        var fifo = new ModulatorSymbolFifo(0, new SymbolDistribution(0.5, [0.5, 0.3, 0.2]));
        byte[] packed = [0x0F | (0x1 << 4), 0x00, 0xC3, 0x00]; // pulse 0: level 3; pulse 5: level 3
        Assert.True(fifo.Write(0, packed, out _));
        fifo.Complete();
        Assert.Equal(2, fifo.InvalidSymbols);
        Assert.Equal(new PulseSymbol(Basis.X, 1, Intensity.Vacuum), fifo.SymbolAt(0));
        Assert.Equal(new PulseSymbol(Basis.X, 0, Intensity.Signal), fifo.SymbolAt(1));
        Assert.Equal(Intensity.Vacuum, fifo.SymbolAt(5).Intensity);
    }
}
