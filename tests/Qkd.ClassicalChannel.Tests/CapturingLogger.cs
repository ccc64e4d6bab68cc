using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Qkd.ClassicalChannel.Tests;

/// <summary>A logger that keeps every entry (level and formatted message), so a test can check what an operator would read.</summary>
public sealed class CapturingLogger : ILogger
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, formatter(state, exception)));

    public bool Logged(LogLevel atLeast, string containing) => Entries.Any(e => e.Level >= atLeast && e.Message.Contains(containing, StringComparison.Ordinal));
}
