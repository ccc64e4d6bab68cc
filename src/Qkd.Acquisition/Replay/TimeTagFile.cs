using Qkd.Core.TimeTags;

namespace Qkd.Acquisition.Replay;

/// <summary>Opens a recorded time-tag stream, whichever supported format it is in.</summary>
public static class TimeTagFile
{
    /// <summary>
    /// Opens <paramref name="path"/> and returns a source that replays it: a <see cref="TimeTagFileReader"/> for our
    /// format, a <see cref="PtuReader"/> for PicoQuant PTU. The format is recognised by the file's magic, not its
    /// extension. The returned source is <see cref="IDisposable"/>; dispose it to close the file.
    /// </summary>
    /// <exception cref="TimeTagFileFormatException">The file is in neither format, or its header is damaged.</exception>
    public static ITimeTagSource Open(string path, PtuReaderOptions? ptuOptions = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        try
        {
            Span<byte> magic = stackalloc byte[8];
            int got = stream.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
            stream.Position = 0;
            magic = magic[..got];
            if (magic.SequenceEqual(TimeTagFileLayout.FileMagic))
                return new TimeTagFileReader(stream, path);
            if (magic.SequenceEqual(PtuHeader.Magic))
                return new PtuReader(stream, path, ptuOptions);
            string known = "known: QKD time-tag file (89 51 54 54 0D 0A 1A 0A), PicoQuant PTU (\"PQTTTR\")";
            string problem = got == 0
                ? $"the file is empty; {known}."
                : magic.StartsWith("PQ"u8)
                    ? $"a PicoQuant file of another kind (\"{System.Text.Encoding.ASCII.GetString(magic).TrimEnd('\0')}\"); only PTU time-tag files are supported."
                    : $"unknown time-tag file format (first bytes {Convert.ToHexString(magic)}); {known}.";
            throw new TimeTagFileFormatException(path, 0, problem);
        }
        catch
        {
            stream.Dispose();
            throw;
        }
    }
}
