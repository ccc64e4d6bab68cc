namespace Qkd.Acquisition.Replay;

/// <summary>
/// A recorded time-tag file (ours or PicoQuant PTU) that cannot be read: names the file, the byte offset and the
/// problem, so a user can tell a truncated copy from a wrong file from a damaged disk. (It would derive from
/// <see cref="InvalidDataException"/>, but that class is sealed; it is an <see cref="IOException"/> like it.)
/// </summary>
public sealed class TimeTagFileFormatException : IOException
{
    public TimeTagFileFormatException(string file, long offset, string problem)
        : base($"{file}: at byte offset {offset}: {problem}")
    {
        File = file;
        Offset = offset;
        Problem = problem;
    }

    /// <summary>The file (or stream name) that was being read.</summary>
    public string File { get; }

    /// <summary>Byte offset from the start of the file where the problem was found.</summary>
    public long Offset { get; }

    public string Problem { get; }
}
