namespace Qkd.Pqc;

/// <summary>A post-quantum operation refused its input: a key, ciphertext or signature of the wrong size or form. Never carries key material.</summary>
public sealed class PqcException(string message, Exception? inner = null) : Exception(message, inner);
