using CsCheck;
using Qkd.Acquisition.Replay;

namespace Qkd.Acquisition.Tests.Replay;

public class Crc32CTests
{
    [Fact]
    public void Matches_the_vectors_in_the_protocol_document()
    {
        var lines = ProtocolDocumentVectors.Lines(ProtocolDocumentVectors.Document("time-tag-file.md"), "crc32c");
        Assert.Equal(4, lines.Count);
        foreach (string line in lines)
        {
            string[] parts = line.Split('=', StringSplitOptions.TrimEntries);
            byte[] input = Convert.FromHexString(parts[0]);
            uint expected = Convert.ToUInt32(parts[1], 16);
            Assert.Equal(expected, Crc32C.Compute(input));
        }
    }

    [Fact]
    public void Matches_a_bitwise_reference_and_incremental_hashing()
    {
        Gen.Select(Gen.Byte.Array[0, 200], Gen.Int[0, 200]).Sample((data, cut) =>
        {
            cut = Math.Min(cut, data.Length);
            uint whole = Crc32C.Compute(data);
            Assert.Equal(whole, Bitwise(data));
            var incremental = new System.IO.Hashing.Crc32(System.IO.Hashing.Crc32ParameterSet.Crc32C);
            incremental.Append(data.AsSpan(0, cut));
            incremental.Append(data.AsSpan(cut));
            Assert.Equal(whole, incremental.GetCurrentHashAsUInt32());
        });
    }

    /// <summary>The CRC from its definition, one bit at a time: an independent check of the library.</summary>
    private static uint Bitwise(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78 : crc >> 1;
        }
        return ~crc;
    }

    [Fact]
    public void Every_single_bit_flip_changes_the_crc()
    {
        var data = new byte[64];
        new Random(5).NextBytes(data);
        uint reference = Crc32C.Compute(data);
        for (int bit = 0; bit < data.Length * 8; bit++)
        {
            data[bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.NotEqual(reference, Crc32C.Compute(data));
            data[bit / 8] ^= (byte)(1 << (bit % 8));
        }
    }
}
