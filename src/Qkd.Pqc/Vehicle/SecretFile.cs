using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace Qkd.Pqc.Vehicle;

/// <summary>Small JSON files that hold secrets: written whole to a temporary file (mode 0600), flushed, then renamed over the old one.</summary>
internal static class SecretFile
{
    public static void Write<T>(string path, T value, JsonTypeInfo<T> type)
    {
        string temporary = path + ".tmp";
        byte[] json = JsonSerializer.SerializeToUtf8Bytes(value, type);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        try
        {
            using (var file = new FileStream(temporary, options))
            {
                file.Write(json);
                file.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite: true);
        }
        finally
        {
            Array.Clear(json);
        }
    }

    public static T Read<T>(string path, JsonTypeInfo<T> type, string what)
    {
        byte[] json;
        try
        {
            json = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new VehicleProtocolException($"{what} {path} cannot be read: {e.Message}", e);
        }
        try
        {
            return JsonSerializer.Deserialize(json, type) ?? throw new VehicleProtocolException($"{what} {path} is empty (JSON null)");
        }
        catch (JsonException e)
        {
            throw new VehicleProtocolException($"{what} {path} is not valid JSON: {e.Message}", e);
        }
        finally
        {
            Array.Clear(json);
        }
    }

    public static byte[] Base64(string value, string field, string path)
    {
        try
        {
            return Convert.FromBase64String(value);
        }
        catch (FormatException)
        {
            throw new VehicleProtocolException($"{path}: field {field} is not base64");
        }
    }

    public static void RequireId(string id, string what)
    {
        if (id.Length is 0 or > 64 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.') || id.StartsWith('.'))
            throw new ArgumentException($"{what} '{(id.Length > 64 ? id[..64] + "..." : id)}' must be 1-64 characters of letters, digits, '-', '_' or '.' (not starting with '.')");
    }

    public static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
}
