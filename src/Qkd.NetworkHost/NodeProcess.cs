using System.Diagnostics;
using System.Text.Json;

namespace Qkd.NetworkHost;

/// <summary>
/// One node's process as the orchestrator holds it: started as `qkd network node --config FILE` (the same `qkd`
/// binary), its output appended to its log file, its status lines kept, its standard input the control line (load,
/// stop). The input pipe also ties the node to the orchestrator: if the orchestrator dies, even by SIGKILL, the pipe
/// closes and the node stops by itself.
/// </summary>
internal sealed class NodeProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly TaskCompletionSource _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _exited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private string? _lastLine;

    private NodeProcess(string id, string configPath, string logPath, Process process, StreamWriter log)
    {
        Id = id;
        ConfigPath = configPath;
        LogPath = logPath;
        _process = process;
        _log = log;
    }

    public string Id { get; }
    public string ConfigPath { get; }
    public string LogPath { get; }

    /// <summary>The last status the node printed (null before the first).</summary>
    public NodeResult? Status { get; private set; }

    public Task Ready => _ready.Task;
    public Task Exited => _exited.Task;
    public bool HasExited => _exited.Task.IsCompleted;
    public int? ExitCode => HasExited ? _process.ExitCode : null;

    /// <summary>The last line the node wrote that was not a status line (its error line, when it failed).</summary>
    public string? LastLine
    {
        get { lock (_gate) return _lastLine; }
    }

    /// <summary>Starts the node; <paramref name="command"/> is how to run `qkd` (the binary, or dotnet and qkd.dll).</summary>
    public static NodeProcess Start(IReadOnlyList<string> command, string id, string configPath)
    {
        string directory = Path.GetDirectoryName(configPath)!;
        string logPath = Path.Combine(directory, "node.log");
        var info = new ProcessStartInfo(command[0])
        {
            WorkingDirectory = directory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in command.Skip(1)) info.ArgumentList.Add(a);
        foreach (string a in new[] { "network", "node", "--config", configPath }) info.ArgumentList.Add(a);
        var log = new StreamWriter(new FileStream(logPath, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var node = new NodeProcess(id, configPath, logPath, process, log);
        process.OutputDataReceived += (_, e) => node.Line(e.Data);
        process.ErrorDataReceived += (_, e) => node.Line(e.Data);
        process.Exited += (_, _) =>
        {
            process.WaitForExit(); // drains the output handlers
            node._ready.TrySetException(new InvalidOperationException($"node {id} exited ({process.ExitCode}) before it was up: {node.LastLine}"));
            node._exited.TrySetResult();
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return node;
    }

    /// <summary>Sends one control line; false if the node no longer listens.</summary>
    public bool Send(string line)
    {
        try
        {
            _process.StandardInput.WriteLine(line);
            _process.StandardInput.Flush();
            return true;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Kills the node at once (SIGKILL), as a crash would.</summary>
    public void Kill()
    {
        try { _process.Kill(entireProcessTree: true); }
        catch (InvalidOperationException) { }
    }

    public int ProcessId => _process.Id;

    private void Line(string? line)
    {
        if (line is null) return;
        const string status = NetworkNode.Marker + " status ";
        if (line.StartsWith(status, StringComparison.Ordinal))
        {
            try { Status = JsonSerializer.Deserialize(line.AsSpan(status.Length), NetworkHostJson.Default.NodeResult); }
            catch (JsonException) { }
            return;
        }
        if (line.StartsWith(NetworkNode.Marker + " ready", StringComparison.Ordinal)) _ready.TrySetResult();
        lock (_gate)
        {
            // The node's own "error: ..." line is quoted without its prefix (the orchestrator adds its own).
            if (line.Trim().Length > 0) _lastLine = line.StartsWith("error: ", StringComparison.Ordinal) ? line["error: ".Length..] : line;
            try { _log.WriteLine(line); } catch (ObjectDisposedException) { }
        }
    }

    public void Dispose()
    {
        if (!HasExited) Kill();
        _process.Dispose();
        lock (_gate) _log.Dispose();
    }
}
