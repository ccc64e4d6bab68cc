using Qkd.Cli;

// `qkd`: wiring and presentation only; the work is done by Qkd.Node and below.
return await QkdCommand.CreateRoot().Parse(args).InvokeAsync();
