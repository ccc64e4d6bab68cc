namespace Qkd.Node.Service;

/// <summary>
/// What kept a node from starting, so a supervisor (systemd, an operator's script) can tell a mistake that a restart
/// cannot fix (the configuration) from one that may heal (a device plugged in late, a port freed). `qkd alice` and
/// `qkd bob` turn each into its own exit code (src/Qkd.Cli/README.md).
/// </summary>
public enum NodeStartupFailure
{
    /// <summary>The configuration file is unreadable, malformed, or holds a value the node cannot use.</summary>
    Configuration,

    /// <summary>A file the configuration names is missing, unreadable, too open, or not the right one: the pre-shared
    /// secret, the authentication pad state, the operator key, the key pool database, a certificate.</summary>
    Files,

    /// <summary>A device the configuration names is absent or does not answer.</summary>
    Devices,

    /// <summary>An address the node listens on is taken or not local, or a host name does not resolve.</summary>
    Network,
}
