namespace Qkd.Emulation;

/// <summary>
/// A link profile is malformed or physically inconsistent. <see cref="Field"/> is the JSON name of the offending
/// field (for example <c>fibreLengthKm</c>); the message says what was expected and what was found.
/// </summary>
public sealed class LinkProfileException : Exception
{
    public LinkProfileException(string field, string message)
        : base(message) => Field = field;

    public LinkProfileException(string field, string message, Exception innerException)
        : base(message, innerException) => Field = field;

    /// <summary>JSON name of the field at fault, or the JSON path when the document itself could not be read.</summary>
    public string Field { get; }
}
