namespace Qkd.Protocol;

/// <summary>
/// Consistent Overhead Byte Stuffing (Cheshire and Baker, 1999): removes every 0x00 from a frame at a cost of at most one
/// byte per 254, so 0x00 can delimit frames on a byte stream and a receiver that lost its place resynchronises at the
/// next 0x00. Runs are found with vectorised IndexOf and copied as blocks, so the cost is close to a memcpy.
/// </summary>
public static class Cobs
{
    /// <summary>Largest encoding of <paramref name="length"/> bytes (delimiter not included).</summary>
    public static int MaxEncodedLength(int length) => length + length / 254 + 1;

    /// <summary>Encodes <paramref name="source"/> (any bytes) into <paramref name="destination"/>; returns the length.</summary>
    public static int Encode(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (destination.Length < MaxEncodedLength(source.Length))
            throw new ArgumentException($"The destination holds {destination.Length} bytes; encoding {source.Length} may need {MaxEncodedLength(source.Length)}.", nameof(destination));
        int written = 0;
        while (true)
        {
            // One block: a code byte, then up to 254 non-zero bytes. Code = run length + 1; a code below 0xFF means a
            // zero followed the run in the source (or the source ended).
            int window = Math.Min(source.Length, 254);
            int zero = source[..window].IndexOf((byte)0);
            int run = zero < 0 ? window : zero;
            destination[written] = (byte)(run + 1);
            source[..run].CopyTo(destination[(written + 1)..]);
            written += run + 1;
            if (zero >= 0)
            {
                source = source[(run + 1)..];
                continue; // the zero is implied by the code; a trailing zero still needs one more (empty) block
            }
            source = source[run..];
            if (source.IsEmpty) return written;
            // A full 254-byte run with more to come: next block, no implied zero.
        }
    }

    /// <summary>
    /// Decodes one encoded frame (delimiter removed) into <paramref name="destination"/>; returns the decoded length, or
    /// -1 when the input is not valid COBS (a zero byte inside, or a code that runs past the end) or does not fit.
    /// </summary>
    public static int Decode(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        int written = 0;
        int i = 0;
        while (i < source.Length)
        {
            int code = source[i];
            if (code == 0) return -1;
            int run = code - 1;
            if (i + 1 + run > source.Length) return -1;
            ReadOnlySpan<byte> block = source.Slice(i + 1, run);
            if (block.IndexOf((byte)0) >= 0) return -1;
            if (written + run > destination.Length) return -1;
            block.CopyTo(destination[written..]);
            written += run;
            i += 1 + run;
            if (code != 0xFF && i < source.Length)
            {
                if (written >= destination.Length) return -1;
                destination[written++] = 0;
            }
        }
        return written;
    }
}
