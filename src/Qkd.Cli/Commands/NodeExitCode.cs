using Qkd.Node.Service;

namespace Qkd.Cli.Commands;

/// <summary>
/// Exit codes of `qkd alice` and `qkd bob`, for systemd and scripts. Any non-zero code is a failure (systemd's
/// Restart=on-failure restarts the node); the unit template does not restart on <see cref="Configuration"/>, which
/// no restart can fix.
/// </summary>
public static class NodeExitCode
{
    /// <summary>Stopped on request (SIGTERM, Ctrl-C), or ran its sessions and was stopped.</summary>
    public const int Stopped = 0;

    /// <summary>Failed after it had started (or the command line is wrong).</summary>
    public const int Failed = 1;

    /// <summary>The configuration file is missing, malformed or holds a value the node cannot use.</summary>
    public const int Configuration = 2;

    /// <summary>A file the configuration names: pre-shared secret, pad state, operator key, key pool, certificate.</summary>
    public const int Files = 3;

    /// <summary>A device the configuration names is absent or does not answer.</summary>
    public const int Devices = 4;

    /// <summary>A port the node listens on is taken or the address is not local; a host name does not resolve.</summary>
    public const int Network = 5;

    public static int Of(NodeStartupFailure failure) => failure switch
    {
        NodeStartupFailure.Configuration => Configuration,
        NodeStartupFailure.Files => Files,
        NodeStartupFailure.Devices => Devices,
        NodeStartupFailure.Network => Network,
        _ => Failed,
    };
}
