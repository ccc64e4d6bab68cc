using Qkd.Node.Devices;
using Qkd.Node.Link;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Qkd.Hardware.Devices;
using Qkd.Protocol;
using Qkd.Protocol.Messages;

namespace Qkd.Lab.Run;

/// <summary>
/// Watches a link's devices while it runs, the way an unattended service must: polls each device's status, reconnects a
/// device that went away once it is back (same serial number, settings re-applied), and turns the faults that make key
/// untrustworthy into a stop reason: the safety interlock opening, the modulator's bias lock lost (its intensities are
/// then unknown, so decoy-state bounds would be wrong), the detector's blinding alarm. The tagger reconnects by itself
/// through the acquisition loop; the supervisor only polls it.
/// </summary>
public sealed class DeviceSupervisor : IDisposable
{
    private readonly LinkRig _rig;
    private readonly ILogger _logger;
    private readonly Timer _timer;
    private readonly Lock _gate = new();
    private readonly List<string> _log = new();
    private int _polling;
    private volatile string? _fault;
    private readonly TimeSpan _disposeWait;

    /// <param name="disposeWait">How long <see cref="Dispose"/> waits for a supervision round in progress (default 10 s).</param>
    public DeviceSupervisor(LinkRig rig, TimeSpan interval, ILogger? logger = null, TimeSpan? disposeWait = null)
    {
        _rig = rig;
        _disposeWait = disposeWait ?? TimeSpan.FromSeconds(10);
        _logger = logger ?? NullLogger.Instance;
        foreach (IDevice device in new IDevice[] { rig.Modulator, rig.Detector, rig.Tagger })
        {
            device.EventReceived += e => OnEvent(device, e);
            device.Disconnected += e => Note($"{device.Name} disconnected: {e.Cause}");
            device.Reconnected += () => Note($"{device.Name} reconnected");
        }
        _timer = new Timer(_ => Poll(), null, interval, interval);
    }

    /// <summary>Why the link must stop, or null. Set once, by the first fault.</summary>
    public string? Fault => _fault;

    /// <summary>What happened to the devices during the run, in order (for the report).</summary>
    public IReadOnlyList<string> Log
    {
        get { lock (_gate) return _log.ToArray(); }
    }

    public long Polls { get; private set; }

    /// <summary>One supervision round: reconnect what is gone, read the status of the rest.</summary>
    public void Poll()
    {
        if (Interlocked.Exchange(ref _polling, 1) == 1) return;
        try
        {
            Polls++;
            foreach (IDevice device in new IDevice[] { _rig.Modulator, _rig.Detector })
            {
                try
                {
                    if (device.State == ConnectionState.Disconnected) device.Reconnect();
                    else if (device.State == ConnectionState.Connected) Check(device, device.GetStatus().Flags);
                }
                catch (DeviceException)
                {
                    // Still away (or not answering): the next round tries again. The disconnect itself was logged.
                }
                catch (Exception e) when (e is InvalidOperationException or ObjectDisposedException or PayloadFormatException)
                {
                    // The rig is being closed, or a device answered nonsense: note it, never let it escape the timer
                    // thread (that would end the process).
                    Note($"{device.Name}: supervision round failed: {e.Message}");
                }
            }
        }
        finally
        {
            Volatile.Write(ref _polling, 0);
        }
    }

    public void Dispose()
    {
        // Waits for a round in progress, so nothing polls the devices once the caller goes on to close them.
        var done = new ManualResetEvent(false);
        if (!_timer.Dispose(done))
        {
            done.Dispose();
            return;
        }
        if (done.WaitOne(_disposeWait))
        {
            done.Dispose();
            return;
        }
        // A round is still waiting on a device that does not answer (its requests time out on their own). The timer
        // signals the event when that round ends, so the event must outlive this call: disposing it here would make
        // that signal throw on a thread-pool thread and end the process. The finaliser frees it.
        Note($"a supervision round was still running after {_disposeWait.TotalSeconds:F1} s; the devices are closed under it");
    }

    private void OnEvent(IDevice device, DeviceEvent e)
    {
        try
        {
            switch (e.Type)
            {
                case MessageType.StatusChanged:
                    Check(device, StatusChange.Read(e.Payload).After);
                    break;
                case MessageType.InterlockChanged when InterlockChange.Read(e.Payload).Open:
                    Stop($"the safety interlock opened ({device.Name})");
                    break;
                case MessageType.Overflow:
                    var overflow = OverflowReport.Read(e.Payload);
                    Note($"{device.Name} lost {overflow.ItemsLost} items (overflow)");
                    break;
            }
        }
        catch (PayloadFormatException ex)
        {
            Note($"{device.Name} sent a malformed {e.Type} event: {ex.Message}");
        }
    }

    private void Check(IDevice device, StatusFlags flags)
    {
        if ((flags & StatusFlags.InterlockOpen) != 0) Stop($"the safety interlock is open ({device.Name})");
        if (device.DeviceClass == DeviceClass.LaserModulator && (flags & StatusFlags.BiasLocked) == 0)
            Stop($"the modulator lost its bias lock: intensities unknown, key from here on cannot be trusted ({device.Name})");
        if ((flags & StatusFlags.BlindingAlarm) != 0) Stop($"the detector's blinding alarm went off: bright light on the heads ({device.Name})");
    }

    private void Stop(string reason)
    {
        if (Interlocked.CompareExchange(ref _fault, reason, null) is null)
        {
            _logger.LogError("Stopping the link: {Reason}", reason);
            Note("stop: " + reason);
        }
    }

    private void Note(string line)
    {
        lock (_gate) _log.Add($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {line}");
        _logger.LogWarning("{Event}", line);
    }
}
