using System.CommandLine;
using Qkd.Cli.Commands;

// `qkd`: wiring and presentation only; the work is done by Qkd.Node and below.
var root = new RootCommand("QkdDriver: run and operate a quantum key distribution link.")
{
    RunCommand.Create(),
};
return await root.Parse(args).InvokeAsync();
