using Qkd.Emulation.Hosting;
using Qkd.Hardware.Transport.Serial;

namespace Qkd.Hardware.Tests.Serial;

public sealed class SerialPortScannerTests : IDisposable
{
    // A stand-in for /dev/qkd, filled with links as the udev rules would make them.
    private readonly string _links = Directory.CreateTempSubdirectory("qkd-links-").FullName;

    public void Dispose() => Directory.Delete(_links, recursive: true);

    [Fact]
    public void A_stable_link_and_the_kernel_name_of_one_port_are_one_candidate_opened_by_the_link()
    {
        using var pty = PseudoTerminal.Open();
        string link = Path.Combine(_links, "detector-SPD-0042");
        File.CreateSymbolicLink(link, pty.SlavePath);
        var scanner = new SerialPortScanner(_links, () => [pty.SlavePath]);

        SerialPortCandidate candidate = Assert.Single(scanner.Scan());

        Assert.Equal(link, candidate.Path);
        Assert.Equal(pty.SlavePath, candidate.RealPath);
        Assert.Equal(new[] { link, pty.SlavePath }.Order(StringComparer.Ordinal), candidate.Aliases);
    }

    [Fact]
    public void Ports_without_links_are_listed_after_the_linked_ones()
    {
        using var linked = PseudoTerminal.Open();
        using var plain = PseudoTerminal.Open();
        string link = Path.Combine(_links, "timetagger-TT-7");
        File.CreateSymbolicLink(link, linked.SlavePath);
        var scanner = new SerialPortScanner(_links, () => [plain.SlavePath, linked.SlavePath]);

        var candidates = scanner.Scan();

        Assert.Equal([link, plain.SlavePath], candidates.Select(c => c.Path));
        Assert.Equal([plain.SlavePath], candidates[1].Aliases);
    }

    [Fact]
    public void Two_links_to_the_same_port_are_deduplicated()
    {
        using var pty = PseudoTerminal.Open();
        File.CreateSymbolicLink(Path.Combine(_links, "modulator-LM-3"), pty.SlavePath);
        // A relative link, like those under /dev/serial/by-id.
        File.CreateSymbolicLink(Path.Combine(_links, "modulator-by-serial"), Path.GetRelativePath(_links, pty.SlavePath));
        var scanner = new SerialPortScanner(_links, () => []);

        SerialPortCandidate candidate = Assert.Single(scanner.Scan());

        Assert.Equal(2, candidate.Aliases.Count);
        Assert.Equal(pty.SlavePath, candidate.RealPath);
        Assert.Equal(Path.Combine(_links, "modulator-LM-3"), candidate.Path);
    }

    [Fact]
    public void Dangling_links_and_links_to_non_tty_devices_are_not_serial_candidates()
    {
        File.CreateSymbolicLink(Path.Combine(_links, "detector-gone"), "/dev/ttyQKD-unplugged");
        // The udev rules also link USB (libusb) devices here; those belong to the USB transport.
        File.CreateSymbolicLink(Path.Combine(_links, "timetagger-usb"), "/dev/null");
        var scanner = new SerialPortScanner(_links, () => []);

        Assert.Empty(scanner.Scan());
    }

    [Fact]
    public void A_missing_link_directory_leaves_the_kernel_ports()
    {
        var scanner = new SerialPortScanner(Path.Combine(_links, "absent"), () => ["/dev/ttyS0", "/dev/ttyACM0"]);

        Assert.Equal(["/dev/ttyACM0", "/dev/ttyS0"], scanner.Scan().Select(c => c.Path));
    }

    [Fact]
    public void The_default_scanner_runs_on_this_machine()
    {
        // Whatever ports this machine has, each real device appears once.
        var candidates = new SerialPortScanner().Scan();

        Assert.Equal(candidates.Count, candidates.Select(c => c.RealPath).Distinct().Count());
    }
}
