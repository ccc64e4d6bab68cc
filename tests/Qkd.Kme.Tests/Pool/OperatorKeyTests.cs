using System.Security.Cryptography;
using Qkd.Kme.Pool;

namespace Qkd.Kme.Tests.Pool;

/// <summary>Where the operator key comes from, and that a wrong or badly kept key stops the node at startup.</summary>
public sealed class OperatorKeyTests : IDisposable
{
    private readonly KeyPoolTestBed _bed = new();

    public void Dispose() => _bed.Dispose();

    private string WriteKeyFile(string name, byte[] content, UnixFileMode mode)
    {
        string path = Path.Combine(_bed.Dir, name);
        File.WriteAllBytes(path, content);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, mode);
        return path;
    }

    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    [Fact]
    public void A_key_file_holds_raw_bytes_or_hex_and_both_open_the_same_store()
    {
        byte[] raw = RandomNumberGenerator.GetBytes(32);
        string rawFile = WriteKeyFile("raw.key", raw, OwnerOnly);
        string hexFile = WriteKeyFile("hex.key", System.Text.Encoding.ASCII.GetBytes(Convert.ToHexString(raw).ToLowerInvariant() + "\n"), OwnerOnly);

        using (var key = OperatorKey.FromFile(rawFile))
        using (var pool = new SqliteKeyPool(_bed.Options(KmeRole.Alice), key))
            pool.Accept(0, KeyPoolTestBed.Block(0, 4));
        using (var key = OperatorKey.FromFile(hexFile))
        using (var pool = new SqliteKeyPool(_bed.Options(KmeRole.Alice), key))
            Assert.Equal(2, pool.TakeAsMaster("m", "s", 2).Count);
    }

    [Theory]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead)]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.OtherRead)]
    [InlineData(UnixFileMode.UserRead | UnixFileMode.GroupWrite)]
    public void A_key_file_others_can_read_or_write_is_refused(UnixFileMode mode)
    {
        if (OperatingSystem.IsWindows()) return;
        string path = WriteKeyFile("open.key", RandomNumberGenerator.GetBytes(32), mode);
        var e = Assert.Throws<OperatorKeyException>(() => OperatorKey.FromFile(path));
        Assert.Contains("readable or writable by group or others", e.Message);
        Assert.Contains("chmod 600", e.Message);
    }

    [Fact]
    public void A_malformed_or_missing_key_is_refused_with_a_message_naming_the_problem()
    {
        Assert.Contains("does not exist", Assert.Throws<OperatorKeyException>(() => OperatorKey.FromFile(Path.Combine(_bed.Dir, "none.key"))).Message);
        string shortFile = WriteKeyFile("short.key", new byte[20], OwnerOnly);
        Assert.Contains("expected exactly 32 raw bytes, or exactly 64 hex digits", Assert.Throws<OperatorKeyException>(() => OperatorKey.FromFile(shortFile)).Message);
        Assert.Throws<OperatorKeyException>(() => OperatorKey.FromHex(new string('g', 64)));
        Assert.Throws<OperatorKeyException>(() => OperatorKey.FromHex("00"));
    }

    [Fact]
    public void Thirty_two_hex_digits_are_not_taken_as_thirty_two_raw_bytes_and_the_error_names_the_file()
    {
        // The case: 32 hex characters (16 bytes written as hex) once opened a fresh store as 32 raw bytes.
        string hex32 = WriteKeyFile("hex32.key", System.Text.Encoding.ASCII.GetBytes(Convert.ToHexString(RandomNumberGenerator.GetBytes(16))), OwnerOnly);
        var e = Assert.Throws<OperatorKeyException>(() => OperatorKey.FromFile(hex32));
        Assert.Contains(Path.GetFullPath(hex32), e.Message);
        Assert.Contains("32 hex digits are 16 bytes", e.Message);
        Assert.False(File.Exists(_bed.PathOf(KmeRole.Alice))); // nothing was created

        string passphrase = WriteKeyFile("pass.key", "correct horse battery staple 123"u8.ToArray(), OwnerOnly);
        Assert.Contains("characters of text", Assert.Throws<OperatorKeyException>(() => OperatorKey.FromFile(passphrase)).Message);
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("\n", true)]
    [InlineData("\r\n", true)]
    [InlineData("\n\n", false)]
    [InlineData(" ", false)]
    [InlineData("00", false)]
    [InlineData("!", false)]
    public void Sixty_four_hex_digits_with_at_most_one_line_ending_and_nothing_else(string suffix, bool accepted)
    {
        byte[] raw = RandomNumberGenerator.GetBytes(32);
        string path = WriteKeyFile("hex64.key", System.Text.Encoding.ASCII.GetBytes(Convert.ToHexString(raw) + suffix), OwnerOnly);
        if (accepted)
        {
            using var fromHex = OperatorKey.FromFile(path);
            using var fromRaw = OperatorKey.FromBytes(raw);
            // Same key: a store created with one opens with the other.
            using (var pool = new SqliteKeyPool(_bed.Options(KmeRole.Alice), fromHex)) pool.Accept(0, KeyPoolTestBed.Block(0, 2));
            using (var pool = new SqliteKeyPool(_bed.Options(KmeRole.Alice), fromRaw)) Assert.Equal(1, pool.AvailableAsMaster);
        }
        else
        {
            var e = Assert.Throws<OperatorKeyException>(() => OperatorKey.FromFile(path));
            Assert.Contains(Path.GetFullPath(path), e.Message);
        }
        string leading = WriteKeyFile("lead.key", System.Text.Encoding.ASCII.GetBytes(" " + Convert.ToHexString(raw)), OwnerOnly);
        Assert.Throws<OperatorKeyException>(() => OperatorKey.FromFile(leading));
    }

    [Fact]
    public void The_key_can_come_from_an_environment_variable()
    {
        string name = "QKD_TEST_OPERATOR_KEY_" + Guid.NewGuid().ToString("N");
        Assert.Contains(name + " is not set", Assert.Throws<OperatorKeyException>(() => OperatorKey.FromEnvironment(name)).Message);
        Environment.SetEnvironmentVariable(name, Convert.ToHexString(RandomNumberGenerator.GetBytes(32)));
        try
        {
            using var key = OperatorKey.FromEnvironment(name);
            Assert.Equal($"environment variable {name}", key.Source);
        }
        finally
        {
            Environment.SetEnvironmentVariable(name, null);
        }
    }

    [Fact]
    public void A_wrong_operator_key_is_refused_when_the_pool_opens()
    {
        using (var pool = _bed.Open(KmeRole.Alice)) pool.Accept(0, KeyPoolTestBed.Block(0, 4));
        using var wrong = OperatorKey.Generate();
        var e = Assert.Throws<OperatorKeyException>(() => new SqliteKeyPool(_bed.Options(KmeRole.Alice), wrong));
        Assert.Contains("is not the key this store was created with", e.Message);
        using var right = _bed.Open(KmeRole.Alice); // the refused attempt changed nothing
        Assert.Equal(2, right.AvailableAsMaster);
    }

    [Fact]
    public void New_key_files_are_created_readable_by_the_owner_only_and_load()
    {
        string path = Path.Combine(_bed.Dir, "new.key");
        OperatorKey.WriteNewKeyFile(path);
        if (!OperatingSystem.IsWindows()) Assert.Equal(OwnerOnly, File.GetUnixFileMode(path));
        using var key = OperatorKey.FromFile(path);
        Assert.StartsWith("file ", key.Source);
    }

    [Fact]
    public void The_database_file_is_created_readable_by_the_owner_only()
    {
        using var pool = _bed.Open(KmeRole.Alice);
        if (!OperatingSystem.IsWindows()) Assert.Equal(OwnerOnly, File.GetUnixFileMode(_bed.PathOf(KmeRole.Alice)));
    }
}
