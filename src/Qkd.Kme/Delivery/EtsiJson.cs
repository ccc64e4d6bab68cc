using System.Text.Json;
using Qkd.Kme.Pool;

namespace Qkd.Kme.Delivery;

/// <summary>The response objects of ETSI GS QKD 014 v1.1.1 (section 6), written field by field with the spec's names.</summary>
internal static class EtsiJson
{
    /// <summary>Status (6.1).</summary>
    public static void WriteStatus(Utf8JsonWriter w, string sourceKmeId, string targetKmeId, string masterSaeId,
        string slaveSaeId, int keySizeBits, long storedKeyCount, long maxKeyCount, int maxKeyPerRequest, int maxSaeIdCount)
    {
        w.WriteStartObject();
        w.WriteString("source_KME_ID", sourceKmeId);
        w.WriteString("target_KME_ID", targetKmeId);
        w.WriteString("master_SAE_ID", masterSaeId);
        w.WriteString("slave_SAE_ID", slaveSaeId);
        w.WriteNumber("key_size", keySizeBits);
        w.WriteNumber("stored_key_count", storedKeyCount);
        w.WriteNumber("max_key_count", maxKeyCount);
        w.WriteNumber("max_key_per_request", maxKeyPerRequest);
        w.WriteNumber("max_key_size", keySizeBits);
        w.WriteNumber("min_key_size", keySizeBits);
        w.WriteNumber("max_SAE_ID_count", maxSaeIdCount);
        w.WriteEndObject();
    }

    /// <summary>Key container (6.3): {"keys": [{"key_ID": UUID, "key": base64}, ...]}.</summary>
    public static void WriteKeyContainer(Utf8JsonWriter w, IReadOnlyList<DeliveredKey> keys)
    {
        w.WriteStartObject();
        w.WriteStartArray("keys");
        foreach (var key in keys)
        {
            w.WriteStartObject();
            w.WriteString("key_ID", key.Id); // Guid is written in the "D" form: 8-4-4-4-12, lower case
            w.WriteBase64String("key", key.Key);
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>Error (6.5): {"message": text, "details": [objects]} (details only when there are some).</summary>
    public static void WriteError(Utf8JsonWriter w, KeyDeliveryException error)
    {
        w.WriteStartObject();
        w.WriteString("message", error.Message);
        if (error.Details.Count > 0)
        {
            w.WriteStartArray("details");
            foreach (var detail in error.Details)
            {
                w.WriteStartObject();
                foreach (var (name, value) in detail)
                    w.WriteString(name, value);
                w.WriteEndObject();
            }
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    /// <summary>Bytes a key container of <paramref name="count"/> keys of <paramref name="keyBytes"/> bytes takes, so it is written without growing.</summary>
    public static int KeyContainerSize(int count, int keyBytes) =>
        16 + count * (32 + 36 + 4 * ((keyBytes + 2) / 3));
}
