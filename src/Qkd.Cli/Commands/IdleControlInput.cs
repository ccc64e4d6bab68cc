namespace Qkd.Cli.Commands;

/// <summary>
/// The control input of a network node that takes no commands: it never yields a line and never ends, so the node runs
/// until it is stopped (SIGTERM, Ctrl-C). A systemd service's standard input is /dev/null, which ends at once; read as
/// control it would stop the node the moment it started.
/// </summary>
public sealed class IdleControlInput : TextReader
{
    public override int Peek() => -1;

    public override int Read() => throw new NotSupportedException("the idle control input is read asynchronously with a cancellation token");

    public override async ValueTask<string?> ReadLineAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken);
        return null; // not reached: only cancellation ends the wait
    }
}
