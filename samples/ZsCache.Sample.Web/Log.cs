namespace ZsCache.Sample.Web;

/// <summary>The sample's log messages (source-generated, stable event ids).</summary>
internal static partial class Log
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information,
        Message = "No ConnectionStrings:Redis configured: started an embedded Garnet server on {Endpoint} as ZsCache's writeback tier (in this process, memory only). Set ConnectionStrings:Redis, or the environment variable ConnectionStrings__Redis, to use your own Redis.")]
    public static partial void StartedGarnet(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "ZsCache writes back to Redis at {Endpoint} (ConnectionStrings:Redis).")]
    public static partial void UsingRedis(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Sample:Writeback=none: ZsCache runs pool-only; cold values are dropped, not written back.")]
    public static partial void PoolOnly(ILogger logger);
}
