using System.CommandLine;
using System.Security.Cryptography;
using System.Text.Json;
using Qkd.Kme.Pool;
using Qkd.Node.Service;
using Qkd.Pqc.Vehicle;

namespace Qkd.Cli.Commands;

/// <summary>
/// `qkd vehicle enrol`: enrols a vehicle key module at a node's gateway (its keys generated and pinned both ways);
/// `qkd vehicle fetch`: what a vehicle runs, fetching keys from its gateway over the post-quantum channel.
/// The logic is in Qkd.Pqc (VehicleEnrolment, VehicleKeyModule) and Qkd.Kme (VehicleGatewayConfig).
/// </summary>
public static class VehicleCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo>("--config") { Description = "The gateway node's configuration (its vehicleGateway section).", Required = true };
        var id = new Option<string>("--id") { Description = "The vehicle's ID (letters, digits, '-', '_', '.').", Required = true };
        var output = new Option<FileInfo>("--out") { Description = "Where to write the vehicle's credentials (mode 0600; carry it to the vehicle).", Required = true };
        var enrol = new Command("enrol", "Enrol a vehicle key module: new ML-DSA-65 keys, both public keys pinned, a first seed.") { config, id, output };
        enrol.SetAction(parse =>
        {
            TextWriter error = parse.InvocationConfiguration.Error;
            try
            {
                var node = NodeConfig.Load(parse.GetValue(config)!.FullName);
                var gateway = node.VehicleGateway ?? throw new InvalidDataException($"{parse.GetValue(config)!.FullName} has no vehicleGateway section");
                using var key = node.KeyPool.OperatorKeyFile is string f ? OperatorKey.FromFile(node.PathOf(f)) : OperatorKey.FromEnvironment(node.KeyPool.OperatorKeyEnvironmentVariable!);
                var registry = gateway.OpenRegistry(key, node.PathOf);
                string path = parse.GetValue(output)!.FullName;
                VehicleEnrolment.Save(VehicleEnrolment.Enrol(registry, gateway.GatewayId, parse.GetValue(id)!), path);
                parse.InvocationConfiguration.Output.WriteLine($"vehicle {parse.GetValue(id)} enrolled at gateway {gateway.GatewayId}; credentials in {path} (carry them to the vehicle, never over a network)");
                return 0;
            }
            catch (Exception e) when (e is InvalidDataException or IOException or OperatorKeyException or UnauthorizedAccessException or ArgumentException or VehicleProtocolException)
            {
                error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });

        var credentials = new Option<FileInfo>("--credentials") { Description = "The vehicle's credentials (from `qkd vehicle enrol`).", Required = true };
        var gatewayAddress = new Option<string>("--gateway") { Description = "The gateway, host:port.", Required = true };
        var count = new Option<int>("--count") { Description = "Keys to fetch (1 to 256).", DefaultValueFactory = _ => 1 };
        var keysOut = new Option<FileInfo?>("--out") { Description = "Write the keys as JSON {keys: [{key_ID, key}]} to this file (mode 0600); otherwise only their IDs are printed." };
        var fetch = new Command("fetch", "Fetch keys from the gateway over the ML-KEM/ML-DSA channel (as the vehicle).") { credentials, gatewayAddress, count, keysOut };
        fetch.SetAction(async (parse, cancellationToken) =>
        {
            TextWriter output = parse.InvocationConfiguration.Output, error = parse.InvocationConfiguration.Error;
            string gateway = parse.GetValue(gatewayAddress)!;
            int colon = gateway.LastIndexOf(':');
            if (colon <= 0 || !int.TryParse(gateway[(colon + 1)..], out int port) || port is < 1 or > 65535)
            {
                error.WriteLine($"error: --gateway '{gateway}' is not host:port");
                return 1;
            }
            try
            {
                await using var module = await VehicleKeyModule.ConnectAsync(parse.GetValue(credentials)!.FullName, gateway[..colon].Trim('[', ']'), port, cancellationToken);
                var keys = await module.FetchAsync(parse.GetValue(count), cancellationToken);
                try
                {
                    if (parse.GetValue(keysOut) is { } file) WriteKeys(file.FullName, keys);
                    output.WriteLine($"{keys.Count} keys from gateway {gateway} (seed {(module.SeedRenewed ? "renewed" : "kept")}):");
                    foreach (var key in keys) output.WriteLine($"  {key.Id}");
                }
                finally
                {
                    foreach (var key in keys) CryptographicOperations.ZeroMemory(key.Key);
                }
                return 0;
            }
            catch (Exception e) when (e is VehicleProtocolException or VehicleKeysUnavailableException or IOException or System.Net.Sockets.SocketException or ArgumentException)
            {
                error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return new Command("vehicle", "Vehicle key modules: keys from a node over a post-quantum channel, for vehicles with no quantum link.") { enrol, fetch };
    }

    private static void WriteKeys(string path, IReadOnlyList<VehicleKey> keys)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var file = new FileStream(path, options);
        using var writer = new Utf8JsonWriter(file, new JsonWriterOptions { Indented = true });
        writer.WriteStartObject();
        writer.WriteStartArray("keys");
        foreach (var key in keys)
        {
            writer.WriteStartObject();
            writer.WriteString("key_ID", key.Id.ToString());
            writer.WriteBase64String("key", key.Key);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
        writer.WriteEndObject();
    }
}
