using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Qkd.Kme.Pool;
using Qkd.Node.Service;

namespace Qkd.Cli.Commands;

/// <summary>`qkd alice --config alice.json` / `qkd bob --config bob.json`: one end of a link as a service.</summary>
public static class NodeCommands
{
    public static Command Create(string role)
    {
        var config = new Option<FileInfo>("--config") { Description = $"The {role} node's configuration (see README: two processes).", Required = true };
        var verbose = new Option<bool>("--verbose") { Description = "Log every block and session step." };
        var command = new Command(role, role == "alice"
            ? "Run Alice's end of a link as a service: transmitter, classical channel (connects), key pool, ETSI 014 key delivery."
            : "Run Bob's end of a link as a service: receiver, classical channel (listens), key pool, ETSI 014 key delivery.")
        {
            config, verbose,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            TextWriter error = parse.InvocationConfiguration.Error;
            NodeConfig nodeConfig;
            try
            {
                nodeConfig = NodeConfig.Load(parse.GetValue(config)!.FullName);
                if (nodeConfig.Role != role) throw new InvalidDataException($"{parse.GetValue(config)!.FullName}: role is \"{nodeConfig.Role}\", but this is `qkd {role}`");
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                error.WriteLine($"error: {e.Message}");
                return 1;
            }
            var builder = Host.CreateApplicationBuilder();
            builder.Logging.ClearProviders();
            builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
            builder.Logging.SetMinimumLevel(parse.GetValue(verbose) ? LogLevel.Debug : LogLevel.Information);
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
            builder.Services.AddSingleton(nodeConfig);
            builder.Services.AddHostedService<QkdNodeService>();
            using var host = builder.Build();
            try
            {
                await host.RunAsync(cancellationToken);
                return 0;
            }
            catch (Exception e) when (e is OperatorKeyException or InvalidDataException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return command;
    }
}
