using System.IO.Ports;

namespace Qkd.Hardware.Transport.Serial;

/// <summary>
/// One serial port that may have a QKD device behind it. Discovery opens <see cref="Path"/> and sends an Identify
/// request to find out.
/// </summary>
/// <param name="Path">The name to open: the stable udev link (/dev/qkd/detector-SN) when there is one, since it
/// survives renumbering after a replug; otherwise the kernel name (/dev/ttyACM0).</param>
/// <param name="RealPath">The device node every alias resolves to; two candidates never share it.</param>
/// <param name="Aliases">Every name found for this port (stable links and kernel name), sorted.</param>
public sealed record SerialPortCandidate(string Path, string RealPath, IReadOnlyList<string> Aliases);

/// <summary>
/// Lists candidate serial ports: what System.IO.Ports reports plus the stable links the QKD udev rules create under
/// /dev/qkd, deduplicated by the device node they resolve to (so /dev/qkd/detector-SN and /dev/ttyACM0 are one port,
/// probed once).
/// </summary>
public sealed class SerialPortScanner
{
    /// <summary>Where udev-rules/ puts stable links (/dev/qkd/detector-SN, /dev/qkd/timetagger-SN, ...).</summary>
    public const string DefaultStableLinkDirectory = "/dev/qkd";

    private readonly string _stableLinkDirectory;
    private readonly Func<IEnumerable<string>> _portNames;

    /// <param name="stableLinkDirectory">Directory of stable links (tests use a temporary one).</param>
    /// <param name="portNames">Source of kernel port names; defaults to <see cref="SerialPort.GetPortNames"/>.</param>
    public SerialPortScanner(string stableLinkDirectory = DefaultStableLinkDirectory, Func<IEnumerable<string>>? portNames = null)
    {
        _stableLinkDirectory = stableLinkDirectory;
        _portNames = portNames ?? SerialPort.GetPortNames;
    }

    /// <summary>Candidates with stable links first, then the rest, each group ordered by path.</summary>
    public IReadOnlyList<SerialPortCandidate> Scan()
    {
        var byRealPath = new Dictionary<string, (string? Stable, SortedSet<string> Aliases)>(StringComparer.Ordinal);

        foreach (string link in StableLinks())
        {
            string? real = ResolveSerialDevice(link);
            if (real is null)
                continue; // dangling, or a USB (non-tty) device node: the USB transport handles those
            if (!byRealPath.TryGetValue(real, out var entry))
                entry = (null, new SortedSet<string>(StringComparer.Ordinal));
            entry.Aliases.Add(link);
            if (entry.Stable is null || string.CompareOrdinal(link, entry.Stable) < 0)
                entry.Stable = link;
            byRealPath[real] = entry;
        }

        IEnumerable<string> names;
        try
        {
            names = _portNames().ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            names = []; // no /sys/class/tty (containers): the stable links are all we can list
        }
        foreach (string name in names)
        {
            string real = RealPath(name) ?? name;
            if (!byRealPath.TryGetValue(real, out var entry))
                entry = (null, new SortedSet<string>(StringComparer.Ordinal));
            entry.Aliases.Add(name);
            byRealPath[real] = entry;
        }

        return byRealPath
            .Select(kv => new SerialPortCandidate(kv.Value.Stable ?? kv.Value.Aliases.Min!, kv.Key, kv.Value.Aliases.ToArray()))
            .OrderBy(c => c.Path.StartsWith(_stableLinkDirectory + "/", StringComparison.Ordinal) ? 0 : 1)
            .ThenBy(c => c.Path, StringComparer.Ordinal)
            .ToArray();
    }

    private IEnumerable<string> StableLinks()
    {
        if (!Directory.Exists(_stableLinkDirectory))
            return [];
        try
        {
            return Directory.EnumerateFileSystemEntries(_stableLinkDirectory).Order(StringComparer.Ordinal).ToArray();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }

    /// <summary>The tty node a stable link resolves to, or null when it is not a tty (or dangling).</summary>
    private static string? ResolveSerialDevice(string link)
    {
        string? real = RealPath(link);
        if (real is null || !File.Exists(real))
            return null;
        string fileName = Path.GetFileName(real);
        bool isTty = fileName.StartsWith("tty", StringComparison.Ordinal)
                     || Path.GetDirectoryName(real) == "/dev/pts";
        return isTty ? real : null;
    }

    private static string? RealPath(string path)
    {
        try
        {
            FileSystemInfo? target = File.ResolveLinkTarget(path, returnFinalTarget: true);
            return target?.FullName ?? Path.GetFullPath(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
