namespace Qkd.Kme.Delivery;

/// <summary>
/// Told of every key the ETSI 014 server hands out, before the answer is written: which operation, which SAEs, which
/// key IDs. Never the keys. The node writes these to its tamper-evident audit log. A failure (the log cannot be written)
/// answers the request with 503 and the keys are not handed out (they are zeroised): no key leaves without its record.
/// </summary>
public interface IKeyDeliveryAudit
{
    /// <param name="operation">"enc_keys" (the caller is the master SAE) or "dec_keys" (the caller is the slave SAE).</param>
    void KeysDelivered(string operation, string masterSaeId, string slaveSaeId, IReadOnlyList<Guid> keyIds);
}

/// <summary>An <see cref="IKeyDeliveryAudit"/> that calls <paramref name="record"/> (how the node connects its audit log).</summary>
public sealed class KeyDeliveryAuditCallback(Action<string, string, string, IReadOnlyList<Guid>> record) : IKeyDeliveryAudit
{
    public void KeysDelivered(string operation, string masterSaeId, string slaveSaeId, IReadOnlyList<Guid> keyIds) =>
        record(operation, masterSaeId, slaveSaeId, keyIds);
}
