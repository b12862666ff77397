using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace ZsCache.Soak;

/// <summary>
/// Counts log lines by event id and keeps the most recent few, so a long run's logging costs
/// bounded memory. Also checks every line against a set of strings that must never be logged.
/// </summary>
internal sealed class CountingLoggerProvider(LogLevel minimum, params string[] forbidden) : ILoggerProvider
{
    private const int Kept = 200;

    private readonly LogLevel _minimum = minimum;

    private readonly ConcurrentDictionary<int, long> _byEvent = new();
    private readonly ConcurrentQueue<string> _recent = new();
    private readonly ConcurrentQueue<string> _forbiddenLines = new();
    private long _forbiddenSeen;

    public CountingLoggerProvider(params string[] forbidden)
        : this(LogLevel.Information, forbidden)
    {
    }

    /// <summary>The first lines that contained a forbidden string.</summary>
    public IReadOnlyList<string> ForbiddenLines => _forbiddenLines.ToArray();

    /// <summary>Every line seen, of any level.</summary>
    public long Total => _byEvent.Values.Sum();

    public long Count(int eventId) => _byEvent.TryGetValue(eventId, out var n) ? n : 0;

    public IReadOnlyDictionary<int, long> ByEvent => new Dictionary<int, long>(_byEvent);

    public IReadOnlyList<string> Recent => _recent.ToArray();

    /// <summary>Lines (message or exception text) that contained a forbidden string.</summary>
    public long ForbiddenSeen => Volatile.Read(ref _forbiddenSeen);

    public ILogger CreateLogger(string categoryName) => new Counter(this, categoryName);

    public void Dispose()
    {
    }

    private void Record(string category, LogLevel level, EventId eventId, string message, Exception? exception)
    {
        _byEvent.AddOrUpdate(eventId.Id, 1, static (_, n) => n + 1);
        var text = exception is null ? message : message + " " + exception;
        foreach (var secret in forbidden)
        {
            if (text.Contains(secret, StringComparison.Ordinal))
            {
                Interlocked.Increment(ref _forbiddenSeen);
                if (_forbiddenLines.Count < 10)
                {
                    _forbiddenLines.Enqueue(text);
                }
            }
        }

        if (level >= LogLevel.Warning)
        {
            _recent.Enqueue($"{level} {category} [{eventId.Id}] {message}{(exception is null ? "" : $" ({exception.GetType().Name}: {exception.Message})")}");
            while (_recent.Count > Kept)
            {
                _recent.TryDequeue(out _);
            }
        }
    }

    private sealed class Counter(CountingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= owner._minimum;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                owner.Record(category, logLevel, eventId, formatter(state, exception), exception);
            }
        }
    }
}
