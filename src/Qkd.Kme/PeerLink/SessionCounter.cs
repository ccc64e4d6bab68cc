namespace Qkd.Kme.PeerLink;

/// <summary>
/// The last session number this node started, kept in a small file written durably before a session begins, so a
/// session number (and the symbols seeded from it) is never used twice, even when a session produced no key.
/// </summary>
public sealed class SessionCounter(string directory)
{
    private readonly string _path = Path.Combine(directory, "session");

    public long Last
    {
        get
        {
            if (!File.Exists(_path)) return 0;
            string text = File.ReadAllText(_path).Trim();
            return long.TryParse(text, out long value) && value >= 0
                ? value
                : throw new InvalidDataException($"{_path}: \"{text}\" is not a session number; restore it or remove the file only if both key pools are empty");
        }
    }

    public void Save(long session)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        string temporary = _path + ".tmp";
        using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.WriteThrough))
        {
            file.Write(System.Text.Encoding.ASCII.GetBytes(session.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            file.Flush(flushToDisk: true);
        }
        File.Move(temporary, _path, overwrite: true);
    }
}
