using Qkd.Acquisition.Replay;

namespace Qkd.Acquisition.Tests.Replay;

public class TimeTagFileHeaderErrorTests
{
    private static readonly byte[] File = TimeTagFileTestData.Write(TimeTagFileTestData.Header(), TimeTagFileTestData.Stream(10, 1), 4);

    private static TimeTagFileFormatException Open(byte[] bytes) =>
        Assert.Throws<TimeTagFileFormatException>(() => new TimeTagFileReader(new MemoryStream(bytes), "/data/run7.qtt"));

    [Fact]
    public void Wrong_magic_names_the_file_offset_and_problem()
    {
        byte[] bytes = (byte[])File.Clone();
        bytes[1] = (byte)'X';
        var e = Open(bytes);
        Assert.Equal("/data/run7.qtt", e.File);
        Assert.Equal(0, e.Offset);
        Assert.Contains("/data/run7.qtt", e.Message);
        Assert.Contains("magic", e.Message);
    }

    [Fact]
    public void An_unknown_major_version_is_refused()
    {
        byte[] bytes = (byte[])File.Clone();
        bytes[8] = 2;
        var e = Open(bytes);
        Assert.Equal(8, e.Offset);
        Assert.Contains("major version 2", e.Message);
    }

    [Fact]
    public void A_damaged_header_fails_its_crc()
    {
        byte[] bytes = (byte[])File.Clone();
        bytes[40] ^= 0x20; // inside the first channel entry
        var e = Open(bytes);
        Assert.Contains("CRC-32C mismatch", e.Message);
    }

    [Fact]
    public void A_truncated_header_is_reported_as_such()
    {
        Assert.Contains("ends inside the header", Open(File[..10]).Message);
        Assert.Contains("ends inside the header", Open(File[..50]).Message);
    }

    [Fact]
    public void An_implausible_header_length_is_refused()
    {
        byte[] bytes = (byte[])File.Clone();
        bytes[15] = 0x7F;
        var e = Open(bytes);
        Assert.Equal(12, e.Offset);
        Assert.Contains("header length", e.Message);
    }
}
