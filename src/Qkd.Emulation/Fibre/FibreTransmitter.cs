using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Qkd.Core;
using Qkd.Emulation.Firmware;

namespace Qkd.Emulation.Fibre;

/// <summary>
/// Alice's end of the emulated fibre: what her (emulated) modulator emits leaves her process over a loopback socket, as
/// light leaves a transmitter. On every emission the modulator starts, the transmitter connects to the receiver, sends
/// the <see cref="FibreLight"/> header and then the symbols in order, packed two per byte, in chunks; a zero-length
/// chunk ends the emission. Nothing else crosses: Bob's process learns of Alice's choices only through his detectors.
/// </summary>
public sealed class FibreTransmitter : IDisposable
{
    private const int ChunkBytes = 1 << 16;

    private readonly EmulatedLaserModulatorFirmware _modulator;
    private readonly IPEndPoint _receiver;
    private readonly CancellationTokenSource _stop = new();
    private Thread? _thread;

    public FibreTransmitter(EmulatedLaserModulatorFirmware modulator, IPEndPoint receiver)
    {
        _modulator = modulator;
        _receiver = receiver;
        _modulator.EmissionStarted += OnEmissionStarted;
    }

    /// <summary>Pulses sent down the fibre in the current (or last) emission.</summary>
    public long PulsesSent { get; private set; }

    /// <summary>Why the last emission's light stopped early, or null.</summary>
    public string? Fault { get; private set; }

    public void Dispose()
    {
        _modulator.EmissionStarted -= OnEmissionStarted;
        _stop.Cancel();
        _thread?.Join(TimeSpan.FromSeconds(5));
    }

    private void OnEmissionStarted(ModulatorSymbolFifo fifo)
    {
        // Called on the modulator's receive thread under its lock: read the settings now, send from our own thread.
        var light = new FibreLight(_modulator.PulseRateHz, _modulator.IntensityMicroPhotons(0), _modulator.IntensityMicroPhotons(1),
            _modulator.IntensityMicroPhotons(2), _modulator.SyncDivider, fifo.FirstPulse);
        _thread = new Thread(() => Send(fifo, light)) { IsBackground = true, Name = "emulated fibre (transmitter)" };
        _thread.Start();
    }

    private void Send(ModulatorSymbolFifo fifo, FibreLight light)
    {
        try
        {
            using var socket = new Socket(_receiver.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            socket.Connect(_receiver);
            using var stream = new NetworkStream(socket, ownsSocket: false);
            var buffer = new byte[4 + ChunkBytes];
            light.Write(buffer);
            stream.Write(buffer, 0, FibreLight.Length);
            long pulse = 0;
            PulsesSent = 0;
            while (!_stop.IsCancellationRequested)
            {
                // Pack until the chunk is full or the emission has ended (the FIFO then knows its end).
                int bytes = 0;
                while (bytes < ChunkBytes)
                {
                    // SymbolAt waits until the pulse arrived or the emission ended; only then is the end known.
                    byte low = fifo.SymbolAt(pulse).Pack();
                    if (fifo.IsComplete && pulse >= fifo.EndPulse) break;
                    byte high = fifo.SymbolAt(pulse + 1).Pack();
                    buffer[4 + bytes++] = (byte)(low | (high << 4));
                    pulse += 2;
                }
                if (bytes == 0) break;
                BinaryPrimitives.WriteInt32LittleEndian(buffer, bytes);
                stream.Write(buffer, 0, 4 + bytes);
                PulsesSent = pulse;
            }
            BinaryPrimitives.WriteInt32LittleEndian(buffer, 0);
            stream.Write(buffer, 0, 4);
        }
        catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
        {
            Fault = $"the emulated fibre to {_receiver} broke: {e.Message}";
            // Nobody reads the light any more (Bob's session ended): a laser keeps firing whoever listens, so the host's
            // symbols must not wait for this thread, or Alice's emission (and her session) hangs behind a full FIFO.
            fifo.Unobserved = true;
        }
    }
}
