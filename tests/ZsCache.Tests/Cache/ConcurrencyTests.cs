using System.Buffers.Binary;
using Microsoft.Extensions.Caching.Distributed;

namespace ZsCache.Tests.Cache;

public class ConcurrencyTests
{
    /// <summary>A value that says which key and which write made it, so any torn or misplaced read is caught.</summary>
    private static byte[] Stamp(int key, int write, int size)
    {
        var value = new byte[size];
        BinaryPrimitives.WriteInt32LittleEndian(value, key);
        BinaryPrimitives.WriteInt32LittleEndian(value.AsSpan(4), write);
        for (var i = 8; i < size; i++)
        {
            value[i] = (byte)(key + write + i);
        }

        return value;
    }

    private static void AssertStamped(int key, byte[] value)
    {
        Assert.Equal(key, BinaryPrimitives.ReadInt32LittleEndian(value));
        var write = BinaryPrimitives.ReadInt32LittleEndian(value.AsSpan(4));
        for (var i = 8; i < value.Length; i++)
        {
            Assert.Equal((byte)(key + write + i), value[i]);
        }
    }

    [Fact]
    public async Task Concurrent_set_get_remove_refresh_with_shrink_and_compaction_read_only_written_values()
    {
        using var cache = CacheFactory.Create(configure: o => o.MaxPoolBytes = 2L * 1024 * 1024);
        const int keys = 400;
        const int operationsPerWorker = 4000;
        var workers = Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
        {
            var random = new Random(w);
            for (var op = 0; op < operationsPerWorker; op++)
            {
                var key = random.Next(keys);
                var name = "k" + key;
                switch (random.Next(10))
                {
                    case < 4:
                        cache.Set(name, Stamp(key, op, 8 + random.Next(3000)), new DistributedCacheEntryOptions());
                        break;
                    case < 8:
                        var value = op % 2 == 0 ? cache.Get(name) : await cache.GetAsync(name);
                        if (value is not null)
                        {
                            AssertStamped(key, value);
                        }

                        break;
                    case 8:
                        cache.Remove(name);
                        break;
                    default:
                        cache.Refresh(name);
                        break;
                }
            }
        })).ToList();
        workers.Add(Task.Run(async () =>
        {
            for (var i = 0; i < 50; i++)
            {
                await cache.ShrinkAsync();
                cache.Pool.Compact();
            }
        }));

        await Task.WhenAll(workers).WaitAsync(TimeSpan.FromMinutes(2));
        Assert.True(cache.Pool.TotalBytes <= 2L * 1024 * 1024);
    }
}
