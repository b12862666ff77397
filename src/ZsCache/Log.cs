using Microsoft.Extensions.Logging;

namespace ZsCache;

/// <summary>Every log message of the cache, source-generated, with stable event ids (1xx).</summary>
internal static partial class Log
{
    [LoggerMessage(100, LogLevel.Warning, "The writeback tier failed {Failed} of {Total} objects; they stay in the pool.")]
    public static partial void WritebackPartlyFailed(ILogger logger, int failed, int total);

    [LoggerMessage(101, LogLevel.Warning, "The writeback tier is unavailable: the shrinker drops cold entries instead of writing them back.")]
    public static partial void DroppingWhileTierDown(ILogger logger);

    [LoggerMessage(102, LogLevel.Error, "The shrinker failed; it will run again on the next signal.")]
    public static partial void ShrinkerFailed(ILogger logger, Exception exception);

    [LoggerMessage(103, LogLevel.Warning, "A value read from the writeback tier did not decode (codec {Codec}, dictionary {DictionaryId}, {OriginalLength} bytes); it reads as a miss.")]
    public static partial void FaultInRejected(ILogger logger, int codec, int dictionaryId, int originalLength);

    [LoggerMessage(104, LogLevel.Error, "Fault-in from the writeback tier failed; the read is a miss.")]
    public static partial void FaultInFailed(ILogger logger, Exception exception);

    [LoggerMessage(105, LogLevel.Error, "Fencing in the writeback tier failed unexpectedly; the key stays fenced locally.")]
    public static partial void FenceFailed(ILogger logger, Exception exception);

    [LoggerMessage(106, LogLevel.Warning, "{Count} keys await fences in the writeback tier; they are folded into a table of key-hash slots and not sent (reads of written-back values that share a slot with one miss).")]
    public static partial void FencesFolded(ILogger logger, int count);

    [LoggerMessage(107, LogLevel.Debug, "Shrink pass: {PagesFreed} pages freed, {WrittenBack} objects written back, {Dropped} dropped, {Moved} moved by compaction; pool {PoolBytes} of {Limit} bytes.")]
    public static partial void ShrinkPass(ILogger logger, int pagesFreed, int writtenBack, int dropped, long moved, long poolBytes, long limit);

    [LoggerMessage(108, LogLevel.Error, "Expiration scan failed.")]
    public static partial void ScanFailed(ILogger logger, Exception exception);

    [LoggerMessage(109, LogLevel.Warning, "{Count} stores found the pool full and the writeback tier did not take them either; they were not cached (reported at most every {Interval}).")]
    public static partial void BypassDropped(ILogger logger, long count, TimeSpan interval);

    [LoggerMessage(111, LogLevel.Error, "Handing a store to the writeback tier failed unexpectedly; it is treated as refused.")]
    public static partial void BypassFailed(ILogger logger, Exception exception);

    [LoggerMessage(110, LogLevel.Warning, "The writeback tier serves reads but refuses writes: the pool keeps its values instead of dropping them; a store that needs room evicts one value of its size class, or is dropped.")]
    public static partial void HoldingWhileTierRefuses(ILogger logger);
}
