namespace Qkd.Distillation.Protocol;

/// <summary>A peer sent a message that is malformed or out of sequence. Nothing was changed by it.</summary>
public sealed class ProtocolException(string message) : Exception(message);
