namespace Qkd.Network.Topology;

/// <summary>A topology file that cannot be used; the message is one line naming the file and the field at fault.</summary>
public sealed class TopologyException(string message, Exception? inner = null) : Exception(message, inner);
