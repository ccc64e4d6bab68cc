namespace Qkd.Kme.Delivery;

/// <summary>
/// A request the KME refuses, carried to the response as the ETSI Error object: HTTP status, message, and details
/// (each detail one object of name/value strings, e.g. {"parameter": "size", "reason": "..."}).
/// </summary>
public sealed class KeyDeliveryException(int statusCode, string message, IReadOnlyList<IReadOnlyDictionary<string, string>>? details = null)
    : Exception(message)
{
    public int StatusCode { get; } = statusCode;

    public IReadOnlyList<IReadOnlyDictionary<string, string>> Details { get; } = details ?? [];

    /// <summary>400: a parameter is wrong; <paramref name="parameter"/> names it in the details.</summary>
    public static KeyDeliveryException BadParameter(string parameter, string reason) =>
        new(400, "Bad request: " + reason, [new Dictionary<string, string> { ["parameter"] = parameter, ["reason"] = reason }]);

    /// <summary>401: the caller is not an SAE this KME serves, or not allowed on this path.</summary>
    public static KeyDeliveryException Unauthorized(string reason) =>
        new(401, "Unauthorized: " + reason);

    /// <summary>503: the KME cannot serve the request now (not enough keys, peer unreachable).</summary>
    public static KeyDeliveryException Unavailable(string reason, IReadOnlyDictionary<string, string>? detail = null) =>
        new(503, "Service unavailable: " + reason, detail is null ? null : [detail]);
}
