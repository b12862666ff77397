using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace ZsCache.Testing.Logging;

/// <summary>One log line a <see cref="CollectingLoggerProvider"/> recorded.</summary>
/// <param name="Category">The logger's category.</param>
/// <param name="Level">Its level.</param>
/// <param name="EventId">Its event id.</param>
/// <param name="Message">The formatted message.</param>
/// <param name="Exception">The exception logged with it, if any.</param>
public sealed record LogRecord(string Category, LogLevel Level, EventId EventId, string Message, Exception? Exception);

/// <summary>An <see cref="ILoggerProvider"/> that keeps every line, for tests that assert on logging.</summary>
public sealed class CollectingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<LogRecord> _records = new();

    /// <summary>Everything logged so far, oldest first.</summary>
    public IReadOnlyList<LogRecord> Records => _records.ToArray();

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new Collector(categoryName, _records);

    /// <inheritdoc />
    public void Dispose()
    {
    }

    private sealed class Collector(string category, ConcurrentQueue<LogRecord> records) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            ArgumentNullException.ThrowIfNull(formatter);
            records.Enqueue(new LogRecord(category, logLevel, eventId, formatter(state, exception), exception));
        }
    }
}
