using System.Device.Gpio;
using Qkd.Core.Rings;
using Qkd.Core.TimeTags;
using Qkd.Protocol;

namespace Qkd.Hardware.Gpio;

/// <summary>
/// Turns edges on chosen GPIO input lines into <see cref="TimeTag"/>s in the acquisition ring, so slow electrical
/// signals (an external sync, an interlock, a shutter monitor) appear in the same stream as the time tagger's tags:
/// a <see cref="TimeTagKind.Rising"/> or <see cref="TimeTagKind.Falling"/> tag on the line's configured channel, stamped
/// with the host monotonic clock (Stopwatch) in picoseconds at the moment the driver reports the edge.
/// </summary>
/// <remarks>
/// The driver's callback thread must never block, so the ring must drop rather than wait
/// (<see cref="OverflowPolicy.DropNewest"/>); every dropped edge is counted here (<see cref="EdgesDropped"/>) and by the
/// ring. Per edge nothing is allocated on our side: the line lookup is a scan of a small array and the tag is a
/// struct. Accuracy is that of user-space GPIO: the timestamp is taken in the callback, so it carries the driver's
/// event latency (tens of microseconds on libgpiod), not the kernel's edge timestamp, which System.Device.Gpio 4.2
/// does not pass on. Tags from several lines may reach the ring slightly out of time order when the driver delivers
/// them on different threads; within one line they are in order.
/// </remarks>
public sealed class GpioEdgeTimestamper : IDisposable
{
    private readonly GpioController _controller;
    private readonly MpscRing<TimeTag> _ring;
    private readonly TimestampedLine[] _lines;
    private readonly bool[] _openedPin;
    private readonly PinChangeEventHandler _onEdge;
    private readonly HostMonotonicClock _clock;
    private readonly object _gate = new();
    private long _seen;
    private long _written;
    private long _dropped;
    private long _unknown;
    private bool _started;
    private bool _disposed;

    public GpioEdgeTimestamper(GpioController controller, MpscRing<TimeTag> ring, IEnumerable<TimestampedLine> lines, TimeProvider? clock = null)
    {
        ArgumentNullException.ThrowIfNull(controller);
        ArgumentNullException.ThrowIfNull(ring);
        ArgumentNullException.ThrowIfNull(lines);
        if (ring.OverflowPolicy != OverflowPolicy.DropNewest)
            throw new ArgumentException(
                $"GPIO edge timestamper needs a ring with {nameof(OverflowPolicy)}.{nameof(OverflowPolicy.DropNewest)}: the driver's callback thread must never wait for space (got {ring.OverflowPolicy}).",
                nameof(ring));
        _lines = lines.ToArray();
        if (_lines.Length == 0) throw new ArgumentException("GPIO edge timestamper needs at least one line.", nameof(lines));
        new GpioLinesOptions { TimestampedLines = _lines, InterlockDebounceNs = 0 }.Validate(); // same rules, same messages
        _controller = controller;
        _ring = ring;
        _openedPin = new bool[_lines.Length];
        _onEdge = OnEdge;
        _clock = new HostMonotonicClock(clock ?? TimeProvider.System);
    }

    public IReadOnlyList<TimestampedLine> Lines => _lines;

    /// <summary>Edges reported by the driver on our lines.</summary>
    public long EdgesSeen => Interlocked.Read(ref _seen);

    /// <summary>Edges that reached the ring as tags.</summary>
    public long EdgesWritten => Interlocked.Read(ref _written);

    /// <summary>Edges lost because the ring was full. <see cref="EdgesSeen"/> = <see cref="EdgesWritten"/> + <see cref="EdgesDropped"/>.</summary>
    public long EdgesDropped => Interlocked.Read(ref _dropped);

    /// <summary>Callbacks for a pin that is not one of our lines (a driver bug or a shared handler); ignored.</summary>
    public long UnknownPinEvents => Interlocked.Read(ref _unknown);

    public bool IsRunning
    {
        get { lock (_gate) return _started; }
    }

    /// <summary>Opens the lines (unless already open as inputs) and starts reporting edges. Idempotent.</summary>
    public void Start()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_started) return;
            int registered = 0;
            try
            {
                for (; registered < _lines.Length; registered++)
                {
                    var line = _lines[registered];
                    _openedPin[registered] = GpioLines.OpenInput(_controller, line.Pin, line.Mode, $"edge timestamper channel {line.Channel}");
                    _controller.RegisterCallbackForPinValueChangedEvent(line.Pin, line.Edges, _onEdge);
                }
            }
            catch (Exception ex)
            {
                for (int i = 0; i <= registered && i < _lines.Length; i++)
                    GpioLines.Release(_controller, _lines[i].Pin, _onEdge, _openedPin[i]);
                if (ex is DeviceException) throw;
                var failed = _lines[registered];
                throw new DeviceException($"edge timestamper channel {failed.Channel} (GPIO {failed.Pin})", "watch the line for edges", ex.Message, ex);
            }
            _started = true;
        }
    }

    /// <summary>Stops reporting edges and closes the lines it opened. Idempotent.</summary>
    public void Stop()
    {
        lock (_gate)
        {
            if (!_started) return;
            _started = false;
            for (int i = 0; i < _lines.Length; i++)
                GpioLines.Release(_controller, _lines[i].Pin, _onEdge, _openedPin[i]);
        }
    }

    private void OnEdge(object sender, PinValueChangedEventArgs args) => OnEdge(args.PinNumber, args.ChangeType);

    /// <summary>The per-edge path: timestamp first (closest to the edge), then find the line, then one ring write.</summary>
    internal void OnEdge(int pin, PinEventTypes change)
    {
        long timePs = _clock.NowPs;
        var lines = _lines;
        for (int i = 0; i < lines.Length; i++)
        {
            if (lines[i].Pin != pin) continue;
            Interlocked.Increment(ref _seen);
            var kind = change == PinEventTypes.Falling ? TimeTagKind.Falling : TimeTagKind.Rising;
            bool written;
            try
            {
                written = _ring.Write(new TimeTag(timePs, lines[i].Channel, kind));
            }
            catch (InvalidOperationException)
            {
                written = false; // the ring was completed (acquisition shutting down); an exception must not reach the driver's thread
            }
            Interlocked.Increment(ref written ? ref _written : ref _dropped);
            return;
        }
        Interlocked.Increment(ref _unknown);
    }

    public void Dispose()
    {
        Stop();
        lock (_gate) _disposed = true;
    }
}
