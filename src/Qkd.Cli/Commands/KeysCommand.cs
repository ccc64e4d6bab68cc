using System.CommandLine;
using System.Text.Json;
using Qkd.Kme.Pool;
using Qkd.Node.Service;

namespace Qkd.Cli.Commands;

/// <summary>`qkd keys status --config node.json`: the key pool of a node, per peer.</summary>
public static class KeysCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo>("--config") { Description = "The node's configuration.", Required = true };
        var json = new Option<bool>("--json") { Description = "Print machine-readable JSON." };
        var status = new Command("status", "Show the key pool: keys to hand out, keys held for the peer's SAEs, limits.") { config, json };
        status.SetAction(parse =>
        {
            TextWriter output = parse.InvocationConfiguration.Output, error = parse.InvocationConfiguration.Error;
            try
            {
                var node = NodeConfig.Load(parse.GetValue(config)!.FullName);
                using var key = node.KeyPool.OperatorKeyFile is string f ? OperatorKey.FromFile(node.PathOf(f)) : OperatorKey.FromEnvironment(node.KeyPool.OperatorKeyEnvironmentVariable!);
                using var pool = new SqliteKeyPool(new SqliteKeyPoolOptions
                {
                    DatabasePath = node.PathOf(node.KeyPool.Database),
                    LinkId = node.LinkId,
                    Role = node.IsAlice ? KmeRole.Alice : KmeRole.Bob,
                    KeySizeBits = node.KeyPool.KeySizeBits,
                    MaxKeyCount = node.KeyPool.MaxKeyCount,
                    ReservationExpiry = TimeSpan.FromSeconds(node.KeyPool.ReservationExpirySeconds),
                }, key);
                var stats = pool.Statistics;
                var pending = pool.PendingReservationsBySlaveSae();
                string peer = node.KeyDelivery?.PeerKmeId ?? "peer";
                if (parse.GetValue(json))
                {
                    var status = new KeyPoolStatus(node.LinkId, node.Role, node.KeyDelivery?.KmeId, peer, pool.KeySizeBits, pool.AvailableAsMaster,
                        pool.HeldForPeer, pool.MaxKeyCount, pending, pool.StoredBlockIds().Count, stats.ReservationsOutstanding, stats.KeysExpired);
                    output.WriteLine(JsonSerializer.Serialize(status, CliJson.Default.KeyPoolStatus));
                    return 0;
                }
                output.WriteLine($"link {node.LinkId}: {node.Role}'s KME {node.KeyDelivery?.KmeId} <-> {peer}, {pool.KeySizeBits}-bit keys");
                output.WriteLine($"  to hand out by enc_keys (this KME master)   {pool.AvailableAsMaster,12:N0}");
                output.WriteLine($"  held for dec_keys (peer KME master)        {pool.HeldForPeer,12:N0}");
                foreach (var (sae, count) in pending) output.WriteLine($"    reserved for slave SAE {sae,-20} {count,12:N0}");
                output.WriteLine($"  reservations awaiting the peer KME         {stats.ReservationsOutstanding,12:N0}");
                output.WriteLine($"  keys expired unredeemed (after {node.KeyPool.ReservationExpirySeconds:0} s)    {stats.KeysExpired,12:N0}");
                output.WriteLine($"  blocks in the pool                         {pool.StoredBlockIds().Count,12:N0}");
                output.WriteLine($"  capacity (max_key_count)                   {pool.MaxKeyCount,12:N0}");
                return 0;
            }
            catch (Exception e) when (e is InvalidDataException or IOException or OperatorKeyException or UnauthorizedAccessException
                                       or InvalidOperationException or System.Data.Common.DbException)
            {
                error.WriteLine($"error: {e.Message}");
                return 1;
            }
        });
        return new Command("keys", "Key pool operations.") { status };
    }
}
