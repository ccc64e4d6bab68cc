using System.Diagnostics;

namespace Qkd.Cli.Tests;

/// <summary>
/// The `qkd` command as a real process (the test output's qkd.dll under dotnet), its output collected so a test can
/// wait for a line. Waits end on the line, on the process exiting, or on a generous deadline (a safety net only).
/// </summary>
public sealed class QkdProcess : IDisposable
{
    private readonly System.Text.StringBuilder _output = new();

    private QkdProcess(Process process) => Process = process;

    public Process Process { get; }

    /// <summary>Starts `qkd args...` in <paramref name="workingDirectory"/>.</summary>
    public static QkdProcess Start(string workingDirectory, params string[] args) => Start(workingDirectory, keepInput: false, args);

    /// <summary>
    /// Starts `qkd args...` with its standard input a pipe this test holds open (and may write to: <see cref="Process"/>'s
    /// StandardInput), as `qkd network up` starts its nodes: a `qkd network node` stops when its input ends.
    /// </summary>
    public static QkdProcess StartWithInput(string workingDirectory, params string[] args) => Start(workingDirectory, keepInput: true, args);

    private static QkdProcess Start(string workingDirectory, bool keepInput, string[] args)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = keepInput,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "qkd.dll"));
        foreach (string a in args) info.ArgumentList.Add(a);
        var qkd = new QkdProcess(Process.Start(info)!);
        qkd.Process.OutputDataReceived += (_, e) => qkd.Add(e.Data);
        qkd.Process.ErrorDataReceived += (_, e) => qkd.Add(e.Data);
        qkd.Process.EnableRaisingEvents = true;
        qkd.Process.Exited += (_, _) => qkd.Add(null);
        qkd.Process.BeginOutputReadLine();
        qkd.Process.BeginErrorReadLine();
        return qkd;
    }

    /// <summary>Everything the process printed so far.</summary>
    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    private void Add(string? line)
    {
        lock (_output)
        {
            if (line is not null) _output.AppendLine(line);
            Monitor.PulseAll(_output);
        }
    }

    /// <summary>Waits until the output contains <paramref name="fragment"/>.</summary>
    /// <exception cref="InvalidOperationException">The process exited first.</exception>
    /// <exception cref="TimeoutException">Not within <paramref name="timeout"/>.</exception>
    public void WaitFor(string fragment, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (_output)
            while (!_output.ToString().Contains(fragment))
            {
                if (Process.HasExited) throw new InvalidOperationException($"the process exited ({Process.ExitCode}) before \"{fragment}\":\n{_output}");
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"no \"{fragment}\" within {timeout}:\n{_output}");
                Monitor.Wait(_output, TimeSpan.FromMilliseconds(500));
            }
    }

    /// <summary>Waits until <paramref name="condition"/> holds of the output (checked whenever a line arrives, and twice a second).</summary>
    /// <exception cref="InvalidOperationException">The process exited first.</exception>
    /// <exception cref="TimeoutException">Not within <paramref name="timeout"/>.</exception>
    public void WaitUntil(Func<string, bool> condition, string what, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (_output)
            while (!condition(_output.ToString()))
            {
                if (Process.HasExited) throw new InvalidOperationException($"the process exited ({Process.ExitCode}) before {what}:\n{_output}");
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"no {what} within {timeout}:\n{_output}");
                Monitor.Wait(_output, TimeSpan.FromMilliseconds(500));
            }
    }

    /// <summary>How often <paramref name="fragment"/> occurs in the output so far.</summary>
    public int Count(string fragment)
    {
        lock (_output) return Occurrences(_output.ToString(), fragment);
    }

    /// <summary>Waits until the output contains <paramref name="fragment"/> at least <paramref name="count"/> times.</summary>
    /// <exception cref="InvalidOperationException">The process exited first.</exception>
    /// <exception cref="TimeoutException">Not within <paramref name="timeout"/>.</exception>
    public void WaitForCount(string fragment, int count, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        lock (_output)
            while (Occurrences(_output.ToString(), fragment) < count)
            {
                if (Process.HasExited) throw new InvalidOperationException($"the process exited ({Process.ExitCode}) before \"{fragment}\" x{count}:\n{_output}");
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"no \"{fragment}\" x{count} within {timeout}:\n{_output}");
                Monitor.Wait(_output, TimeSpan.FromMilliseconds(500));
            }
    }

    private static int Occurrences(string text, string fragment)
    {
        int n = 0;
        for (int at = text.IndexOf(fragment, StringComparison.Ordinal); at >= 0; at = text.IndexOf(fragment, at + fragment.Length, StringComparison.Ordinal)) n++;
        return n;
    }

    /// <summary>Sends SIGTERM (a graceful stop, as systemd and Ctrl-C do).</summary>
    public void Terminate()
    {
        if (Process.HasExited) return;
        using var kill = Process.Start("kill", ["-TERM", Process.Id.ToString()]);
        kill.WaitForExit();
    }

    public void Dispose()
    {
        if (!Process.HasExited) Process.Kill(entireProcessTree: true);
        Process.Dispose();
    }
}
