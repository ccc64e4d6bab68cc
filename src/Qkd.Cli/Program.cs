using System.CommandLine;
using Qkd.Cli;

// `qkd`: wiring and presentation only; the work is done by Qkd.Node and below.
// On SIGTERM or Ctrl-C the running command is cancelled and given time to stop cleanly (a node ends its session and
// closes its key pool); System.CommandLine's default of 2 s would cut a loaded node short with exit code 143, which
// systemd reads as a failure. 50 s stays within the unit's TimeoutStopSec=60s.
return await QkdCommand.CreateRoot().Parse(args).InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(50) });
