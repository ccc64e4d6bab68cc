namespace Qkd.Node.Service;

/// <summary>
/// The node could not start. The message is one line that names the configuration field (and through it the file,
/// device or address) and the cause, fit to print as is; <see cref="Exception.InnerException"/> keeps the detail for
/// `--verbose`.
/// </summary>
public sealed class NodeStartupException(NodeStartupFailure failure, string message, Exception? innerException = null)
    : Exception(message, innerException)
{
    public NodeStartupFailure Failure { get; } = failure;
}
