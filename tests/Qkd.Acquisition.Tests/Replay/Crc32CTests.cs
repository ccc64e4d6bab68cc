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
            Assert.Equal(expected, Crc32C.ComputeSoftware(input));
        }
    }

    [Fact]
    public void Hardware_and_table_computations_agree_and_appending_equals_one_pass()
    {
        Gen.Select(Gen.Byte.Array[0, 200], Gen.Int[0, 200]).Sample((data, cut) =>
        {
            cut = Math.Min(cut, data.Length);
            uint whole = Crc32C.Compute(data);
            Assert.Equal(whole, Crc32C.ComputeSoftware(data));
            Assert.Equal(whole, Crc32C.Append(Crc32C.Append(0, data.AsSpan(0, cut)), data.AsSpan(cut)));
        });
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
