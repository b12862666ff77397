using Microsoft.Extensions.Logging;
using StackExchange.Redis;

namespace ZsCache.Redis.Internal;

/// <summary>
/// Every log message of ZsCache.Redis, source-generated. Event ids are stable: add, never
/// renumber. No message carries configuration (it may hold passwords); endpoints and cache
/// keys only.
/// </summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Could not connect to the Redis writeback tier.")]
    public static partial void ConnectFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Redis connection to {EndPoint} failed ({FailureType}).")]
    public static partial void ConnectionFailed(ILogger logger, string? endPoint, ConnectionFailureType failureType, Exception? exception);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Redis connection to {EndPoint} restored.")]
    public static partial void ConnectionRestored(ILogger logger, string? endPoint);

    [LoggerMessage(EventId = 4, Level = LogLevel.Warning, Message = "Writeback of {Count} objects to Redis failed; they stay in the pool.")]
    public static partial void WriteFailed(ILogger logger, int count, Exception exception);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "Writeback of {Key} reached Redis after its deadline and was not stored.")]
    public static partial void WriteTooLate(ILogger logger, string key);

    [LoggerMessage(EventId = 6, Level = LogLevel.Warning, Message = "Reading {Key} from Redis failed; read as a miss.")]
    public static partial void ReadFailed(ILogger logger, string key, Exception exception);

    [LoggerMessage(EventId = 7, Level = LogLevel.Warning, Message = "The value under {Key} in Redis is not a valid ZsCache payload ({Reason}); read as a miss.")]
    public static partial void InvalidPayload(ILogger logger, string key, string reason);

    [LoggerMessage(EventId = 8, Level = LogLevel.Warning, Message = "Fencing {Key} at version {Version} in Redis failed.")]
    public static partial void FenceFailed(ILogger logger, string key, long version, Exception exception);

    [LoggerMessage(EventId = 9, Level = LogLevel.Warning, Message = "Refreshing {Key} in Redis failed.")]
    public static partial void RefreshFailed(ILogger logger, string key, Exception exception);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "Redis writeback circuit opened for {BreakDuration}; writeback is suspended and the cache serves from its pool.")]
    public static partial void CircuitOpened(ILogger logger, TimeSpan breakDuration, Exception? exception);

    [LoggerMessage(EventId = 11, Level = LogLevel.Information, Message = "Redis writeback circuit closed; writeback resumes.")]
    public static partial void CircuitClosed(ILogger logger);

    [LoggerMessage(EventId = 12, Level = LogLevel.Debug, Message = "Redis writeback circuit half-open; probing.")]
    public static partial void CircuitHalfOpened(ILogger logger);

    [LoggerMessage(EventId = 13, Level = LogLevel.Warning, Message = "Redis refuses writes ({Reason}); until it takes one again (tried every {Pause}) the pool keeps what it holds, a store that finds no room evicts one value of its size or is not cached, and the cache keeps reading from Redis.")]
    public static partial void WritesRefused(ILogger logger, string reason, TimeSpan pause);

    [LoggerMessage(EventId = 14, Level = LogLevel.Information, Message = "Redis takes writes again; writeback resumes.")]
    public static partial void WritesAcceptedAgain(ILogger logger);

    [LoggerMessage(EventId = 15, Level = LogLevel.Information, Message = "Could not subscribe to the fence channel yet; trying again in the background. Until then Sets and Removes of other instances do not reach this pool.")]
    public static partial void SubscribeFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 16, Level = LogLevel.Warning, Message = "{Count} messages on the fence channel were not ZsCache fences and were ignored (reported at most every {Interval}).")]
    public static partial void InvalidFenceMessages(ILogger logger, long count, TimeSpan interval);

    [LoggerMessage(EventId = 17, Level = LogLevel.Warning, Message = "Applying a fence from another instance failed.")]
    public static partial void FenceMessageFailed(ILogger logger, Exception exception);
}
