using System.CommandLine;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Hosting.Systemd;
using Microsoft.Extensions.Logging;
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
            bool isVerbose = parse.GetValue(verbose);
            NodeConfig nodeConfig;
            try
            {
                nodeConfig = NodeConfig.Load(parse.GetValue(config)!.FullName);
                if (nodeConfig.Role != role) throw new InvalidDataException($"{parse.GetValue(config)!.FullName}: role is \"{nodeConfig.Role}\", but this is `qkd {role}`");
            }
            catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
            {
                return Fail(error, isVerbose, NodeExitCode.Configuration, e);
            }
            // No default configuration sources: the node reads only its own config file. The defaults would watch the
            // working directory for appsettings changes, and under systemd that folder holds the key store, so every
            // write to the store's -wal file woke a FileSystemWatcher thread (about 7 % of the CPU under ETSI load).
            var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { DisableDefaults = true });
            builder.Logging.ClearProviders();
            // Under systemd: READY=1 once every hosted service has started (QkdNodeService returns from StartAsync only
            // when the node is up), STOPPING=1 on SIGTERM, and log lines the journal reads (<priority> prefix, no
            // timestamp: the journal adds its own). Elsewhere nothing changes.
            builder.Services.AddSystemd();
            if (SystemdHelpers.IsSystemdService())
                builder.Logging.AddSystemdConsole();
            else
                builder.Logging.AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; });
            builder.Logging.SetMinimumLevel(isVerbose ? LogLevel.Debug : LogLevel.Information);
            builder.Logging.AddFilter("Microsoft", LogLevel.Warning);
            // The host logs a failure to start, or a service that failed, with its stack trace: the node says it in one line.
            if (!isVerbose) builder.Logging.AddFilter("Microsoft.Extensions.Hosting", LogLevel.None);
            builder.Services.AddSingleton(nodeConfig);
            builder.Services.AddSingleton<QkdNodeService>();
            builder.Services.AddHostedService(services => services.GetRequiredService<QkdNodeService>());
            using var host = builder.Build();
            var node = host.Services.GetRequiredService<QkdNodeService>();
            try
            {
                await host.RunAsync(cancellationToken);
            }
            catch (NodeStartupException e)
            {
                return Fail(error, isVerbose, NodeExitCode.Of(e.Failure), e);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested || node.Failure is null)
            {
                return NodeExitCode.Stopped; // stopped while starting
            }
            catch (Exception e) when (node.Failure is null)
            {
                return Fail(error, isVerbose, NodeExitCode.Failed, e);
            }
            return node.Failure switch
            {
                null => NodeExitCode.Stopped,
                NodeStartupException e => Fail(error, isVerbose, NodeExitCode.Of(e.Failure), e),
                var e => Fail(error, isVerbose, NodeExitCode.Failed, e),
            };
        });
        return command;
    }

    /// <summary>One line naming what failed (the stack trace too with --verbose); returns <paramref name="exitCode"/>.</summary>
    private static int Fail(TextWriter error, bool verbose, int exitCode, Exception e)
    {
        error.WriteLine($"error: {OneLine(e.Message)}");
        if (verbose) error.WriteLine(e);
        return exitCode;
    }

    private static string OneLine(string text) => string.Join(' ', text.Split(['\r', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
