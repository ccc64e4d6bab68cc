using System.CommandLine;
using Qkd.Audit;
using Qkd.Node.Service;

namespace Qkd.Cli.Commands;

/// <summary>
/// `qkd audit verify FILE [--key KEYFILE | --config node.json]`: checks a node's audit log (its rotated files and head
/// too) and prints OK with the number of lines and the time span, or the first bad line and why. Exit 0: OK; 1: the log
/// fails; 2: it could not be checked (no key, bad arguments).
/// </summary>
public static class AuditCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("FILE") { Description = "The audit log (its FILE.head and rotated FILE.<sequence> files are read too)." };
        var key = new Option<FileInfo>("--key") { Description = "The audit key file (64 hex digits, mode 0600)." };
        var config = new Option<FileInfo>("--config") { Description = "A node configuration whose audit.keyFile is the key." };
        var verify = new Command("verify", "Verify an audit log: every line's MAC, the sequence and hash chain across files, and the sealed head.") { file, key, config };
        verify.SetAction(parse =>
        {
            TextWriter output = parse.InvocationConfiguration.Output, error = parse.InvocationConfiguration.Error;
            FileInfo? keyFile = parse.GetValue(key), configFile = parse.GetValue(config);
            if ((keyFile is null) == (configFile is null))
            {
                error.WriteLine("error: give exactly one of --key KEYFILE and --config node.json.");
                return 2;
            }
            try
            {
                string keyPath = keyFile?.FullName ?? KeyOf(NodeConfig.Load(configFile!.FullName));
                using var auditKey = AuditKey.FromFile(keyPath);
                var result = AuditVerifier.Verify(parse.GetValue(file)!.FullName, auditKey);
                (result.Ok ? output : error).WriteLine(result.Summary());
                return result.Ok ? 0 : 1;
            }
            catch (Exception e) when (e is AuditLogException or InvalidDataException or IOException or UnauthorizedAccessException)
            {
                error.WriteLine($"error: {e.Message}");
                return 2;
            }
        });
        return new Command("audit", "The node's tamper-evident audit log.") { verify };
    }

    private static string KeyOf(NodeConfig node) =>
        node.Audit is { } audit ? node.PathOf(audit.KeyFile) : throw new InvalidDataException($"{node.SourceFile}: has no \"audit\" section (audit.keyFile).");
}
