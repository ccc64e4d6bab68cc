using System.CommandLine;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Qkd.Lab.Drill;
using Qkd.Node.Link;

namespace Qkd.Cli.Commands;

/// <summary>
/// `qkd drill`: the breach drill (logic in Qkd.Lab's <see cref="DrillRunner"/>). Exit codes: 0 every attack caught,
/// <see cref="AttacksMissed"/> one or more not caught (named), 1 bad input or failure.
/// </summary>
public static class DrillCommand
{
    /// <summary>The drill ran and at least one attack was not caught (distinct from every other `qkd` exit code).</summary>
    public const int AttacksMissed = 7;

    public static Command Create()
    {
        var distance = new Option<double>("--distance-km") { Description = "Fibre length of the emulated link, km.", DefaultValueFactory = _ => 80 };
        var json = new Option<bool>("--json") { Description = "Print the JSON report on stdout instead of the table." };
        var report = new Option<FileInfo?>("--report") { Description = "Also write the JSON report here (schema: schemas/drill.schema.json)." };
        var seed = new Option<ulong?>("--seed")
        {
            Description = "Seed every choice of every run (same seed, same drill); without it the choices come from the OS CSPRNG and only the physics is seeded.",
        };
        var verbose = new Option<bool>("--verbose") { Description = "Log every run and block." };
        var blockSize = new Option<long>("--block-size") { Description = "Sifted key bits per block: small, so each run completes a few blocks.", DefaultValueFactory = _ => 1L << 18 };
        var attack = new Option<string[]>("--attack")
        {
            Description = "Run only this attack of the catalogue (repeatable; no fraction search): " + string.Join(", ", DrillCatalogue.All.Select(a => $"\"{a.Name}\"")) + ".",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("drill",
            "Breach drill: run every attack of the catalogue (intercept-resend full and partial, photon-number splitting, detector blinding, " +
            "time-shift, fibre tap, denial of service) on a fresh emulated link, clean first and attacked after, and report whether, how and " +
            "when each was detected and what key came out while it ran. Exit 0 only when every attack is caught.")
        {
            distance, json, report, seed, verbose, blockSize, attack,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            TextWriter output = parse.InvocationConfiguration.Output, error = parse.InvocationConfiguration.Error;
            var options = new DrillOptions { DistanceKm = parse.GetValue(distance), Seed = parse.GetValue(seed), BlockSizeBits = parse.GetValue(blockSize) };
            try
            {
                if (parse.GetValue(attack) is { Length: > 0 } names)
                    options = options with { Attacks = names.Select(DrillCatalogue.Named).ToList() };
                options.Validate();
            }
            catch (ArgumentException e)
            {
                error.WriteLine($"error: {e.Message}");
                return 1;
            }
            using var loggerFactory = LoggerFactory.Create(b => b
                .AddSimpleConsole(o => { o.SingleLine = true; o.TimestampFormat = "HH:mm:ss "; })
                .SetMinimumLevel(parse.GetValue(verbose) ? LogLevel.Information : LogLevel.Error));
            var runner = new DrillRunner(options, logger: loggerFactory.CreateLogger("qkd.drill"));
            error.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Breach drill: {options.DistanceKm} km, {runner.LinkSeconds} s of link time per attack, attack from {runner.OnsetSeconds} s, detection sources: {string.Join(", ", runner.Detectors.Select(d => d.Name))}"));
            if (options.Seed is not null) error.WriteLine($"warning: {ChoiceSources.SeededWarning}");
            var progress = new SynchronousProgress(r => error.WriteLine($"  {r.Attack}: {r.Verdict}"));
            DrillReport result = await runner.RunAsync(progress, cancellationToken);
            if (parse.GetValue(json))
                output.WriteLine(result.ToJson());
            else
                DrillTable.Print(result, output);
            if (parse.GetValue(report) is FileInfo file)
            {
                File.WriteAllText(file.FullName, result.ToJson());
                error.WriteLine($"Report written to {file.FullName}");
            }
            if (!result.AllCaught) error.WriteLine($"not caught: {string.Join(", ", result.NotCaught)}");
            return result.AllCaught ? 0 : AttacksMissed;
        });
        return command;
    }

    private sealed class SynchronousProgress(Action<DrillAttackResult> report) : IProgress<DrillAttackResult>
    {
        public void Report(DrillAttackResult value) => report(value);
    }
}
