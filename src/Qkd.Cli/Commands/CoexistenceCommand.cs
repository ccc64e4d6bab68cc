using System.CommandLine;
using System.Globalization;
using Qkd.Emulation;
using Qkd.Lab;
using Qkd.Node.Link;

namespace Qkd.Cli.Commands;

/// <summary>
/// `qkd coexistence --distance-km 25,80 --launch-dbm -30..0`: per distance, the largest launch power of one classical
/// channel in the same fibre that still leaves secret key (seeded emulated runs; src/Qkd.Emulation/README.md).
/// </summary>
public static class CoexistenceCommand
{
    public static Command Create()
    {
        var distances = new Option<string>("--distance-km") { Description = "Fibre lengths, comma-separated.", DefaultValueFactory = _ => "25,80" };
        var launch = new Option<string>("--launch-dbm") { Description = "Launch power range LOW..HIGH, dBm.", DefaultValueFactory = _ => "-30..0" };
        var step = new Option<double>("--step-db") { Description = "Grid of the power search, dB.", DefaultValueFactory = _ => 1 };
        var wavelength = new Option<double>("--classical-nm") { Description = "The classical channel's wavelength, nm.", DefaultValueFactory = _ => 1310 };
        var direction = new Option<string>("--direction") { Description = "co (with the quantum signal) or counter.", DefaultValueFactory = _ => "co" };
        var rho = new Option<double>("--raman-rho") { Description = "Raman cross-section into the quantum wavelength, 1/(km nm).", DefaultValueFactory = _ => CoexistingChannel.DefaultRamanCrossSectionPerKmNm };
        var profile = new Option<FileInfo?>("--profile") { Description = "Link profile JSON; default: built-in." };
        var blockSize = new Option<long>("--block-size") { Description = "Sifted key bits per privacy-amplification block.", DefaultValueFactory = _ => 1L << 22 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of every run (emulation: the keys are not secret).", DefaultValueFactory = _ => 7 };
        var command = new Command("coexistence", "Find the largest classical launch power in the same fibre that still leaves secret key (Raman background).")
        {
            distances, launch, step, wavelength, direction, rho, profile, blockSize, seed,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            TextWriter output = parse.InvocationConfiguration.Output, error = parse.InvocationConfiguration.Error;
            CoexistenceSweep sweep;
            double[] km;
            double low, high, stepDb = parse.GetValue(step);
            CoexistingChannel channel;
            try
            {
                km = parse.GetValue(distances)!.Split(',').Select(d => double.Parse(d, CultureInfo.InvariantCulture)).ToArray();
                string[] range = parse.GetValue(launch)!.Split("..");
                if (range.Length != 2) throw new FormatException($"--launch-dbm \"{parse.GetValue(launch)}\" is not LOW..HIGH");
                (low, high) = (double.Parse(range[0], CultureInfo.InvariantCulture), double.Parse(range[1], CultureInfo.InvariantCulture));
                if (!(high > low) || !(stepDb > 0)) throw new FormatException("--launch-dbm needs LOW < HIGH and --step-db a positive step");
                var dir = parse.GetValue(direction) switch
                {
                    "co" => CoexistenceDirection.CoPropagating,
                    "counter" => CoexistenceDirection.CounterPropagating,
                    var other => throw new FormatException($"--direction \"{other}\" is not co or counter"),
                };
                channel = new CoexistingChannel { WavelengthNm = parse.GetValue(wavelength), Direction = dir, RamanCrossSectionPerKmNm = parse.GetValue(rho) };
                var settings = LinkSettings.Default with { BlockSizeBits = parse.GetValue(blockSize) };
                var (baseProfile, linkSettings) = parse.GetValue(profile) is FileInfo file ? LinkProfileFile.Load(file.FullName, settings) : (LinkProfile.Default, settings);
                (baseProfile with { ClassicalChannels = [channel] }).Validate();
                linkSettings.Validate();
                sweep = new CoexistenceSweep(baseProfile, linkSettings, channel, parse.GetValue(seed), Directory.CreateTempSubdirectory("qkd-coexistence").FullName);
            }
            catch (Exception e) when (e is FormatException or LinkProfileException or LinkSettingsException or IOException or ArgumentException)
            {
                error.WriteLine($"error: {e.Message}");
                return 1;
            }
            error.WriteLine($"warning: seeded runs (seed {parse.GetValue(seed)}): {ChoiceSources.SeededWarning}");
            output.WriteLine($"classical channel: {channel.WavelengthNm} nm, {(channel.Direction == CoexistenceDirection.CoPropagating ? "co" : "counter")}-propagating, " +
                             $"rho {channel.RamanCrossSectionPerKmNm:G3} /(km nm); block {parse.GetValue(blockSize)} bits");
            output.WriteLine($"{"km",5} {"launch dBm",10} {"Raman/gate",11} {"link s",7} {"QBER Z",7} {"secret bits",12} {"kb/s",9}");
            var results = new List<CoexistenceSweep.Result>();
            foreach (double d in km)
                results.Add(await sweep.RunAsync(d, low, high, stepDb, p => output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{p.DistanceKm,5:0.#} {p.LaunchPowerDbm,10:0.#} {p.RamanPhotonsPerGate,11:0.00E0} {p.DurationSeconds,7:0.0} {(p.QberZ is double q ? q.ToString("P2", CultureInfo.InvariantCulture) : "-"),7} {p.SecretBits,12:N0} {p.SecretKeyRateBitsPerSecond / 1e3,9:0.0}")),
                    cancellationToken));
            output.WriteLine();
            foreach (var r in results)
                output.WriteLine(r.MaxLaunchPowerDbm is double max
                    ? string.Create(CultureInfo.InvariantCulture, $"{r.DistanceKm:0.#} km: key up to {max:0.#} dBm launch{(max >= r.HighestDbm ? " (the top of the range)" : "")}")
                    : string.Create(CultureInfo.InvariantCulture, $"{r.DistanceKm:0.#} km: no key even at {r.LowestDbm:0.#} dBm"));
            return 0;
        });
        return command;
    }
}
