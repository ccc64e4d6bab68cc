using System.CommandLine;

namespace Qkd.Cli.Tests;

/// <summary>Runs `qkd` in process, through the real command tree, capturing what it prints.</summary>
internal static class Cli
{
    public static async Task<(int Code, string Output, string Error)> Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = await QkdCommand.CreateRoot().Parse(args)
            .InvokeAsync(new InvocationConfiguration { Output = output, Error = error }, TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }
}
