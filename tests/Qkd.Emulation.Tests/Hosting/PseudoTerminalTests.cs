using Microsoft.Win32.SafeHandles;
using Qkd.Emulation.Hosting;

namespace Qkd.Emulation.Tests.Hosting;

public class PseudoTerminalTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    /// <summary>Opens the slave as a plain file, as a host program would (but without termios changes of its own).</summary>
    private static FileStream OpenSlave(PseudoTerminal pty)
    {
        SafeFileHandle handle = File.OpenHandle(pty.SlavePath, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        return new FileStream(handle, FileAccess.ReadWrite, bufferSize: 0);
    }

    private static async Task<byte[]> ReadExactlyAsync(Stream stream, int count)
    {
        var buffer = new byte[count];
        // Blocking reads on a thread of their own, so a missing byte fails the test instead of hanging it.
        await Task.Run(() => stream.ReadExactly(buffer)).WaitAsync(Patience, TestContext.Current.CancellationToken);
        return buffer;
    }

    private static byte[] AllByteValues() => Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();

    [Fact]
    public void Slave_path_is_a_pts_device_that_exists()
    {
        using var pty = PseudoTerminal.Open();
        Assert.StartsWith("/dev/pts/", pty.SlavePath);
        Assert.True(File.Exists(pty.SlavePath), $"{pty.SlavePath} does not exist");
        Assert.True(pty.HoldsSlave);
        Assert.True(pty.Master.CanRead && pty.Master.CanWrite && !pty.Master.CanSeek);
    }

    [Fact]
    public void Two_ptys_have_different_slaves()
    {
        using var a = PseudoTerminal.Open();
        using var b = PseudoTerminal.Open();
        Assert.NotEqual(a.SlavePath, b.SlavePath);
    }

    [Fact]
    public async Task Raw_mode_passes_every_byte_value_verbatim_from_master_to_slave()
    {
        using var pty = PseudoTerminal.Open();
        using var slave = OpenSlave(pty);
        // Twice over, so CR/LF/XON/XOFF/^C/^D each appear in the middle of a run as well as alone.
        byte[] sent = [.. AllByteValues(), .. AllByteValues()];

        pty.Master.Write(sent);
        byte[] received = await ReadExactlyAsync(slave, sent.Length);

        Assert.Equal(sent, received);
    }

    [Fact]
    public async Task Raw_mode_passes_every_byte_value_verbatim_from_slave_to_master_without_echo()
    {
        using var pty = PseudoTerminal.Open();
        using var slave = OpenSlave(pty);
        byte[] toSlave = AllByteValues();
        byte[] toMaster = AllByteValues().Reverse().ToArray();

        pty.Master.Write(toSlave);
        Assert.Equal(toSlave, await ReadExactlyAsync(slave, toSlave.Length));
        slave.Write(toMaster);
        // With echo on, the master would first read back what it wrote to the slave.
        Assert.Equal(toMaster, await ReadExactlyAsync(pty.Master, toMaster.Length));
    }

    [Fact]
    public async Task Master_read_waits_for_a_host_that_has_not_opened_the_slave_yet()
    {
        using var pty = PseudoTerminal.Open();
        var buffer = new byte[16];
        // Without the pty's own slave descriptor this read would fail at once with EIO.
        Task<int> read = Task.Run(() => pty.Master.Read(buffer));

        using (var slave = OpenSlave(pty))
            slave.Write([0x7E]);

        Assert.Equal(1, await read.WaitAsync(Patience, TestContext.Current.CancellationToken));
        Assert.Equal(0x7E, buffer[0]);
    }

    [Fact]
    public void Master_read_fails_with_EIO_once_the_slave_is_released_and_the_host_closed_it()
    {
        using var pty = PseudoTerminal.Open();
        using (OpenSlave(pty))
            pty.ReleaseSlave();
        Assert.False(pty.HoldsSlave);

        var e = Assert.Throws<IOException>(() => pty.Master.Read(new byte[16]));
        Assert.Contains("EIO", e.Message);
    }

    [Fact]
    public async Task Dispose_wakes_a_blocked_master_read_which_returns_zero()
    {
        var pty = PseudoTerminal.Open();
        Task<int> read = Task.Run(() => pty.Master.Read(new byte[16]));
        await Task.Delay(50, TestContext.Current.CancellationToken); // let it block in poll (it returns 0 either way)

        pty.Dispose();

        Assert.Equal(0, await read.WaitAsync(Patience, TestContext.Current.CancellationToken));
        Assert.Equal(0, pty.Master.Read(new byte[16]));
        Assert.Throws<ObjectDisposedException>(() => pty.Master.Write([1, 2, 3]));
        Assert.False(pty.HoldsSlave);
    }

    [Fact]
    public async Task Dispose_wakes_a_master_write_blocked_on_a_full_slave_queue()
    {
        var pty = PseudoTerminal.Open();
        // Nobody reads the slave, so the pty's queue fills and the write must wait.
        Task write = Task.Run(() => pty.Master.Write(new byte[4 << 20]), TestContext.Current.CancellationToken);
        await Task.Delay(100, TestContext.Current.CancellationToken);
        Assert.False(write.IsCompleted, "4 MiB fitted into the pty queue with no reader");

        pty.Dispose();

        await Assert.ThrowsAsync<ObjectDisposedException>(() => write.WaitAsync(Patience, TestContext.Current.CancellationToken));
    }

    [Fact]
    public async Task Closing_the_master_hangs_up_the_host_side()
    {
        var pty = PseudoTerminal.Open();
        using var slave = OpenSlave(pty);

        pty.Master.Dispose();

        // A hung-up tty reads as end of file or fails with EIO: either way the host learns the device is gone.
        Task<int> read = Task.Run(() =>
        {
            try
            {
                return slave.Read(new byte[16]);
            }
            catch (IOException)
            {
                return -1;
            }
        });
        Assert.True(await read.WaitAsync(Patience, TestContext.Current.CancellationToken) <= 0);
        Assert.Throws<IOException>(() => slave.Write([1]));
        pty.Dispose();
    }
}
