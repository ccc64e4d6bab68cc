using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using Qkd.Core;
using Qkd.Core.Symbols;
using Qkd.Protocol;

namespace Qkd.Emulation.Fibre;

/// <summary>
/// Bob's end of the emulated fibre: accepts the light from Alice's process and replays it into Bob's physics. The
/// physics model's "light source" (an emulated modulator firmware inside <see cref="Firmware.EmulatedLinkDevices"/>)
/// is driven through <see cref="IFibreLightSource"/> (in a node: the ordinary modulator driver) with what arrives: the header's pulse rate, intensity levels and
/// sync divider, then the symbols as a stream that ends when the fibre says so. Bob's own drivers (detector, tagger)
/// see only the tags this light produces, as a real receiver would.
/// </summary>
public sealed class FibreReceiver : IDisposable
{
    private readonly TcpListener _listener;
    private readonly IFibreLightSource _lightSource;
    private readonly CancellationTokenSource _stop = new();
    private readonly Thread _thread;

    /// <param name="listenOn">Where Alice's transmitter connects (port 0: any free port, see <see cref="EndPoint"/>).</param>
    /// <param name="lightSource">The physics' light source in this process, ready to emit.</param>
    public FibreReceiver(IPEndPoint listenOn, IFibreLightSource lightSource)
    {
        _lightSource = lightSource;
        _listener = new TcpListener(listenOn);
        _listener.Start();
        EndPoint = (IPEndPoint)_listener.LocalEndpoint;
        _thread = new Thread(Run) { IsBackground = true, Name = "emulated fibre (receiver)" };
        _thread.Start();
    }

    public IPEndPoint EndPoint { get; }

    /// <summary>Emissions received so far.</summary>
    public int Emissions { get; private set; }

    /// <summary>Pulses received in the current (or last) emission.</summary>
    public long PulsesReceived => Interlocked.Read(ref _pulses);

    /// <summary>Why the last emission's light stopped early, or null.</summary>
    public string? Fault { get; private set; }

    private long _pulses;

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _thread.Join(TimeSpan.FromSeconds(5));
    }

    private void Run()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = _listener.AcceptSocket();
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException or InvalidOperationException)
            {
                return; // stopped
            }
            using (socket)
            using (var stream = new NetworkStream(socket, ownsSocket: false))
            {
                try
                {
                    Receive(stream);
                }
                catch (Exception e) when (e is IOException or SocketException or InvalidDataException or DeviceException or AggregateException)
                {
                    Fault = $"emulated fibre: {(e as AggregateException)?.InnerException?.Message ?? e.Message}";
                    // The light stopped mid-emission (Alice's node went away): end the emission at what arrived, so the
                    // physics and Bob's tag stream end too instead of waiting for light that will not come.
                    try { _lightSource.Stop(); }
                    catch (Exception stop) when (stop is DeviceException or InvalidOperationException) { }
                }
                catch (OperationCanceledException)
                {
                    return; // disposed mid-emission
                }
            }
        }
    }

    private void Receive(NetworkStream stream)
    {
        var header = new byte[FibreLight.Length];
        stream.ReadExactly(header);
        var light = FibreLight.Read(header);
        Interlocked.Exchange(ref _pulses, 0);
        Emissions++;
        _lightSource.Emit(light, new Arriving(stream, this), _stop.Token);
    }

    /// <summary>The symbols as they come out of the fibre: chunks of packed bytes, a zero-length chunk at the end.</summary>
    private sealed class Arriving(NetworkStream stream, FibreReceiver owner) : ISymbolStream
    {
        private readonly byte[] _length = new byte[4];
        private int _remaining;
        private bool _ended;

        public int ReadPacked(long firstPulse, Span<byte> packed, CancellationToken cancellationToken = default)
        {
            if (_ended) return 0;
            if (_remaining == 0)
            {
                stream.ReadExactly(_length);
                _remaining = BinaryPrimitives.ReadInt32LittleEndian(_length);
                if (_remaining < 0 || _remaining > 1 << 24) throw new InvalidDataException($"emulated fibre: chunk of {_remaining} bytes");
                if (_remaining == 0)
                {
                    _ended = true;
                    return 0;
                }
            }
            int n = stream.Read(packed[..Math.Min(packed.Length, _remaining)]);
            if (n == 0) throw new IOException("emulated fibre: the transmitter went away mid-emission");
            _remaining -= n;
            Interlocked.Add(ref owner._pulses, 2L * n);
            return n;
        }
    }
}
