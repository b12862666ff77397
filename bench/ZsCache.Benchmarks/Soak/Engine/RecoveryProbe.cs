using Microsoft.Extensions.Caching.Distributed;

namespace ZsCache.Soak;

/// <summary>
/// Checks that the cache serves normally again after a fault: fresh values written, the whole
/// pool reclaimed to the tier, and every value read back identical, some of them faulted in.
/// </summary>
internal static class RecoveryProbe
{
    public const int Values = 24;

    /// <summary>One attempt; true when every probe value came back identical and the tier both took and returned values.</summary>
    public static async Task<bool> RunOnceAsync(ZsDistributedCache cache, CountingTier tier, int round)
    {
        var written = tier.Written;
        var faultedIn = tier.ReadValues;
        var values = new byte[Values][];
        for (var i = 0; i < Values; i++)
        {
            values[i] = TestValues.Create(-1 - i, (round * 1000L) + i, 2000 + (i * 97));
            await cache.SetAsync(Key(round, i), values[i], new DistributedCacheEntryOptions()).ConfigureAwait(false);
        }

        await cache.ReclaimAsync((int)Math.Max(16, cache.GetStatistics().PoolPages)).ConfigureAwait(false);
        var identical = true;
        for (var i = 0; i < Values; i++)
        {
            var back = await cache.GetAsync(Key(round, i)).ConfigureAwait(false);
            identical &= back is not null && back.AsSpan().SequenceEqual(values[i]);
        }

        return identical && tier.Written > written && tier.ReadValues > faultedIn;
    }

    /// <summary>Probes until it passes or <paramref name="bound"/> passes; returns the attempts it took, or -1.</summary>
    public static async Task<int> WaitForNormalAsync(ZsDistributedCache cache, CountingTier tier, TimeSpan bound)
    {
        var round = 0;
        var ok = await Bounded.WaitAsync(
            async () => tier.IsAvailable && await RunOnceAsync(cache, tier, ++round).ConfigureAwait(false),
            bound,
            TimeSpan.FromMilliseconds(200)).ConfigureAwait(false);
        return ok ? round : -1;
    }

    private static string Key(int round, int i) => $"probe:{round}:{i}";
}
