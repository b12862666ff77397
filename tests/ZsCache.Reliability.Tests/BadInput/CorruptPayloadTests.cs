using System.Buffers.Binary;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;
using Xunit.Abstractions;
using ZsCache.Reliability.Tests.Support;
using ZsCache.Testing.Redis;

namespace ZsCache.Reliability.Tests.BadInput;

/// <summary>
/// Thousands of corrupt, truncated, extended, mutated, foreign and huge values planted under
/// the cache's prefix, each read through <c>Get</c> (end to end: Lua read script, decoder,
/// cache checks, LZ4, admission). Every answer must be exactly what an independent reading of
/// the format says: the value the bytes encode, or a miss. Never an exception, never garbage,
/// never an allocation sized by a declared length. Damage to a value written by the cache reads
/// as a miss (the checksum), so mutations are also re-signed with a fresh checksum, as a writer
/// producing those bytes on purpose would, to reach the field checks and LZ4 behind it.
/// </summary>
public sealed class CorruptPayloadTests(RedisServerFixture redis, ITestOutputHelper output) : IClassFixture<RedisServerFixture>, IAsyncLifetime
{
    private const int MaxValueBytes = 64 * 1024;
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 12, 0, 0, TimeSpan.Zero);

    private readonly string _prefix = $"fuzz-{Guid.NewGuid():N}:";
    private ConnectionMultiplexer? _direct;
    private CacheUnderTest? _sut;

    private IDatabase Db => _direct!.GetDatabase();

    private ZsDistributedCache Cache => _sut!.Cache;

    public async Task InitializeAsync()
    {
        _direct = await ConnectionMultiplexer.ConnectAsync(redis.ConnectionString);
        _sut = CacheUnderTest.Create(redis.ConnectionString, o =>
        {
            o.MaxPoolBytes = 4L * 1024 * 1024;
            o.MaxValueBytes = MaxValueBytes;
            o.InstanceName = _prefix;
        }, new FakeTimeProvider(Now));
    }

    public async Task DisposeAsync()
    {
        await _sut!.DisposeAsync();
        await _direct!.DisposeAsync();
    }

    [Fact]
    public async Task Random_and_mutated_payloads_read_as_what_they_encode_or_as_a_miss()
    {
        var random = new Random(6);
        var cases = new List<byte[]>();

        // Random bytes, some behind a plausible start so the decoder gets further.
        for (var i = 0; i < 1000; i++)
        {
            var bytes = new byte[random.Next(0, 120)];
            random.NextBytes(bytes);
            if (i % 3 == 0 && bytes.Length >= 3)
            {
                bytes[0] = (byte)'Z';
                bytes[1] = (byte)'S';
                bytes[2] = i % 9 == 0 ? (byte)1 : (byte)2;
            }

            cases.Add(bytes);
        }

        // Valid payloads, then mutated: flipped bits (header and data), truncated, extended,
        // fields overwritten with edge values, LZ4 data scrambled. Half are left as damaged (a
        // checksum that no longer matches), half re-signed.
        var damaged = new Dictionary<int, byte[]>();
        var resigned = 0;
        for (var i = 0; i < 3000; i++)
        {
            var value = Value(random, random.Next(0, 3000));
            var payload = PayloadOracle.Valid(value, version: random.NextInt64(0, long.MaxValue), absoluteUnixMs: random.Next(4) == 0 ? Now.AddMinutes(random.Next(-10, 10)).ToUnixTimeMilliseconds() : 0);
            var mutated = Mutate(payload, random);
            if (random.Next(2) == 0)
            {
                damaged[cases.Count] = value;
            }
            else
            {
                PayloadOracle.Resign(mutated);
                resigned++;
            }

            cases.Add(mutated);
        }

        var results = await CheckAllAsync(cases);
        var hits = results.Count(r => r is not null);
        var misses = results.Length - hits;

        // Issue #4: bytes the cache wrote, then damaged, read as a miss or (when the mutation
        // left them as they were) as the value first encoded; never as other bytes.
        var changed = damaged.Where(p => results[p.Key] is { } r && !r.AsSpan().SequenceEqual(p.Value)).Select(p => p.Key).ToArray();
        var intact = damaged.Count(p => results[p.Key] is not null) - changed.Length;
        output.WriteLine($"{cases.Count} payloads: {hits} read as the value they encode, {misses} as misses; of {damaged.Count} damaged payloads {intact} read as the value first encoded (mutation left them valid), {changed.Length} as other bytes; {resigned} re-signed");
        Assert.True(changed.Length == 0, $"damaged payloads served as other bytes: cases {string.Join(", ", changed.Take(10))}");
        Assert.True(hits > 100 && misses > 1000, "the mix exercises both outcomes");
    }

    [Fact]
    public async Task Hand_made_payloads_read_as_the_format_says()
    {
        var value = Value(new Random(1), 1000);
        var lz4 = PayloadOracle.Valid(value);
        var raw = PayloadOracle.Build(PayloadFields.For(0, 5, 5), [1, 2, 3, 4, 5]);
        List<byte[]> cases =
        [
            [],
            "ZS"u8.ToArray(),
            raw[..39],
            raw[..40],                                                                                      // a value's header alone
            raw[..^4],                                                                                      // a value without its checksum
            raw,
            lz4,
            PayloadOracle.Build(PayloadFields.For(0, 5, 5) with { Checksum = 0 }, [1, 2, 3, 4, 5]),        // a wrong checksum
            PayloadOracle.Build(PayloadFields.For(0, 5, 5) with { Format = 1, WithChecksum = false }, [1, 2, 3, 4, 5]), // format 1 (no checksum)
            PayloadOracle.Build(PayloadFields.For(0, 5, 5) with { Format = 1 }, [1, 2, 3, 4, 5]),          // format 1 with a checksum
            PayloadOracle.Build(PayloadFields.For(0, 0, 0) with { Flags = 1, WithChecksum = true }, []),    // a fence with a checksum
            PayloadOracle.Build(PayloadFields.For(0, 0, 0) with { WithChecksum = false }, []),              // an empty value without one
            PayloadOracle.Build(PayloadFields.For(0, 0, 0), []),                                           // empty value
            PayloadOracle.Build(PayloadFields.For(1, 0, 0), []),                                           // empty LZ4 value
            PayloadOracle.Build(PayloadFields.For(0, 0, 0) with { Flags = 1 }, []),                        // a fence
            PayloadOracle.Build(PayloadFields.For(0, 5, 5) with { Flags = 1 }, [1, 2, 3, 4, 5]),           // a fence with data
            PayloadOracle.Build(PayloadFields.For(0, 5, 5) with { Flags = 2 }, [1, 2, 3, 4, 5]),           // unknown flag
            PayloadOracle.Build(PayloadFields.For(0, 5, 5) with { Format = 2 }, [1, 2, 3, 4, 5]),          // a future format
            PayloadOracle.Build(PayloadFields.For(0, 5, 5) with { Magic = "SZ"u8.ToArray() }, [1, 2, 3, 4, 5]),
            PayloadOracle.Build(PayloadFields.For(0, 5, 5) with { Reserved = 1 }, [1, 2, 3, 4, 5]),
            PayloadOracle.Build(PayloadFields.For(2, 5, 5), [1, 2, 3, 4, 5]),                              // unknown codec
            PayloadOracle.Build(PayloadFields.For(0, 5, 5) with { Dictionary = 1 }, [1, 2, 3, 4, 5]),      // raw with a dictionary
            PayloadOracle.Resign([.. lz4[..5], 7, .. lz4[6..]]),                                            // LZ4 with an unknown dictionary
            PayloadOracle.Build(PayloadFields.For(0, 5, 5) with { Version = -1 }, [1, 2, 3, 4, 5]),
            PayloadOracle.Build(PayloadFields.For(0, 5, 5) with { Version = long.MaxValue }, [1, 2, 3, 4, 5]),
            PayloadOracle.Build(PayloadFields.For(0, 5, 4), [1, 2, 3, 4]),                                 // raw, lengths disagree
            PayloadOracle.Build(PayloadFields.For(0, 5, 5), [1, 2, 3, 4]),                                 // data shorter than declared
            PayloadOracle.Build(PayloadFields.For(0, 5, 5), [1, 2, 3, 4, 5, 6]),                           // longer than declared
            PayloadOracle.Build(PayloadFields.For(0, -1, -1), []),
            PayloadOracle.Build(PayloadFields.For(0, MaxValueBytes, MaxValueBytes), new byte[MaxValueBytes]),          // at the cap
            PayloadOracle.Build(PayloadFields.For(0, MaxValueBytes + 1, MaxValueBytes + 1), new byte[MaxValueBytes + 1]), // one over
            PayloadOracle.Build(PayloadFields.For(1, int.MaxValue, 10), new byte[10]),                     // huge declared length
            PayloadOracle.Build(PayloadFields.For(1, MaxValueBytes, 10), new byte[10]),                    // LZ4 that cannot fill it
            PayloadOracle.Build(PayloadFields.For(1, 1000, 10), [0xF0, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4, 5]), // LZ4 that overruns (and is signed)
            PayloadOracle.Build(PayloadFields.For(1, 5, 5000), new byte[5000]),                            // LZ4 longer than its bound
            PayloadOracle.Build(PayloadFields.For(0, 5, 5) with { AbsoluteUnixMs = Now.AddSeconds(-1).ToUnixTimeMilliseconds() }, [1, 2, 3, 4, 5]),
            PayloadOracle.Build(PayloadFields.For(0, 5, 5) with { AbsoluteUnixMs = Now.ToUnixTimeMilliseconds() }, [1, 2, 3, 4, 5]),
            PayloadOracle.Build(PayloadFields.For(0, 5, 5) with { AbsoluteUnixMs = Now.AddSeconds(1).ToUnixTimeMilliseconds() }, [1, 2, 3, 4, 5]),
            PayloadOracle.Build(PayloadFields.For(0, 5, 5) with { AbsoluteUnixMs = 253_402_300_799_999 }, [1, 2, 3, 4, 5]),
            PayloadOracle.Build(PayloadFields.For(0, 5, 5) with { AbsoluteUnixMs = 253_402_300_800_000 }, [1, 2, 3, 4, 5]),
            PayloadOracle.Build(PayloadFields.For(0, 5, 5) with { AbsoluteUnixMs = -1 }, [1, 2, 3, 4, 5]),
            PayloadOracle.Build(PayloadFields.For(0, 5, 5) with { SlidingMs = long.MaxValue / TimeSpan.TicksPerMillisecond }, [1, 2, 3, 4, 5]),
            PayloadOracle.Build(PayloadFields.For(0, 5, 5) with { SlidingMs = (long.MaxValue / TimeSpan.TicksPerMillisecond) + 1 }, [1, 2, 3, 4, 5]),
            PayloadOracle.Build(PayloadFields.For(0, 5, 5) with { SlidingMs = -1 }, [1, 2, 3, 4, 5]),
            System.Text.Encoding.UTF8.GetBytes("{\"some\":\"json a RedisCache wrote\"}"),
        ];
        await CheckAllAsync(cases);
    }

    [Fact]
    public async Task Foreign_types_and_huge_strings_under_the_prefix_read_as_misses_without_transferring_them()
    {
        await Db.ListRightPushAsync(_prefix + "list", "a");
        await Db.HashSetAsync(_prefix + "hash", "f", "v");
        await Db.SetAddAsync(_prefix + "set", "m");
        await Db.SortedSetAddAsync(_prefix + "zset", "m", 1);
        await Db.StreamAddAsync(_prefix + "stream", "f", "v");

        // Larger than any payload this cache could have written: the read script answers with
        // the length only. One has a valid header declaring a huge value.
        var huge = new byte[4 * 1024 * 1024];
        huge.AsSpan().Fill((byte)'x');
        await Db.StringSetAsync(_prefix + "huge", huge);
        var hugeHeader = PayloadOracle.Build(PayloadFields.For(0, huge.Length, huge.Length), huge);
        await Db.StringSetAsync(_prefix + "huge-valid-header", hugeHeader);

        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        foreach (var key in new[] { "list", "hash", "set", "zset", "stream", "huge", "huge-valid-header" })
        {
            Assert.Null(await Cache.GetAsync(key));
            Assert.Null(Cache.Get(key));
            await Cache.RefreshAsync(key);
        }

        var delta = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        output.WriteLine($"allocated (whole process) while reading 7 foreign keys twice and refreshing them: {delta:N0} bytes");
        Assert.True(delta < huge.Length, $"a 4 MiB value was transferred ({delta} bytes allocated)");

        // Untouched by the reads.
        Assert.Equal(huge.Length, (int)await Db.StringLengthAsync(_prefix + "huge"));
        Assert.Equal(1, await Db.ListLengthAsync(_prefix + "list"));
    }

    [Fact]
    public async Task Declared_lengths_never_size_an_allocation()
    {
        // 200 payloads each declaring a value of up to int.MaxValue bytes in a few real ones.
        var random = new Random(9);
        var cases = new List<byte[]>();
        for (var i = 0; i < 200; i++)
        {
            var declared = i % 2 == 0 ? int.MaxValue - random.Next(1000) : MaxValueBytes + 1 + random.Next(1 << 20);
            cases.Add(PayloadOracle.Build(PayloadFields.For((byte)(i % 4 == 0 ? 0 : 1), declared, 16), new byte[16]));
        }

        var allocated = GC.GetTotalAllocatedBytes(precise: true);
        await CheckAllAsync(cases);
        var delta = GC.GetTotalAllocatedBytes(precise: true) - allocated;
        output.WriteLine($"allocated for 200 reads of huge declared lengths: {delta:N0} bytes");
        Assert.True(delta < 64L * 1024 * 1024, $"{delta} bytes allocated: a declared length sized an allocation");
    }

    private static byte[] Value(Random random, int length)
    {
        var value = new byte[length];
        for (var i = 0; i < length; i++)
        {
            // Compressible: LZ4 gets real matches.
            value[i] = random.Next(3) == 0 ? (byte)random.Next(256) : (byte)"abcdefgh"[i % 8];
        }

        return value;
    }

    private static byte[] Mutate(byte[] payload, Random random)
    {
        var p = (byte[])payload.Clone();
        switch (random.Next(10))
        {
            case 0:
                // A flipped bit in the header.
                p[random.Next(PayloadOracle.HeaderLength)] ^= (byte)(1 << random.Next(8));
                return p;
            case 1:
                // Flipped bits in the data (LZ4 tokens, offsets, literals).
                for (var n = random.Next(1, 4); n > 0 && p.Length > PayloadOracle.HeaderLength; n--)
                {
                    p[random.Next(PayloadOracle.HeaderLength, p.Length)] ^= (byte)(1 << random.Next(8));
                }

                return p;
            case 2:
                return p[..random.Next(p.Length)];
            case 3:
                return [.. p, .. new byte[random.Next(1, 64)]];
            case 4:
                // An edge value in one length field.
                int[] edges = [-1, 0, 1, int.MaxValue, int.MinValue, MaxValueBytes, MaxValueBytes + 1, p.Length - PayloadOracle.HeaderLength - PayloadOracle.ChecksumLength + 1];
                BinaryPrimitives.WriteInt32BigEndian(p.AsSpan(random.Next(2) == 0 ? 16 : 20), edges[random.Next(edges.Length)]);
                return p;
            case 5:
                // Codec or dictionary byte.
                p[random.Next(2) == 0 ? 4 : 5] = (byte)random.Next(4);
                return p;
            case 6:
                // Scrambled data of the right length.
                random.NextBytes(p.AsSpan(PayloadOracle.HeaderLength, p.Length - PayloadOracle.HeaderLength - PayloadOracle.ChecksumLength));
                return p;
            case 7:
                // An edge value in an expiration field.
                long[] times = [-1, 0, long.MaxValue, Now.ToUnixTimeMilliseconds(), 253_402_300_800_000];
                BinaryPrimitives.WriteInt64BigEndian(p.AsSpan(random.Next(2) == 0 ? 24 : 32), times[random.Next(times.Length)]);
                return p;
            default:
                // Left valid.
                return p;
        }
    }

    /// <summary>Plants every case under its own key, reads each through the cache and compares with the oracle.</summary>
    private async Task<byte[]?[]> CheckAllAsync(IReadOnlyList<byte[]> cases)
    {
        var run = Guid.NewGuid().ToString("N")[..8];
        var results = new byte[]?[cases.Count];
        for (var start = 0; start < cases.Count; start += 256)
        {
            var batch = Enumerable.Range(start, Math.Min(256, cases.Count - start)).ToArray();
            await Task.WhenAll(batch.Select(i => Db.StringSetAsync($"{_prefix}{run}-{i}", cases[i])));
            var reads = await Task.WhenAll(batch.Select(async i =>
            {
                try
                {
                    return (i, Value: await Cache.GetAsync($"{run}-{i}"), Error: (Exception?)null);
                }
#pragma warning disable CA1031 // The assertion below reports it.
                catch (Exception ex)
#pragma warning restore CA1031
                {
                    return (i, Value: (byte[]?)null, Error: ex);
                }
            }));
            foreach (var (i, value, error) in reads)
            {
                results[i] = value;
                Assert.True(error is null, $"case {i} ({Convert.ToHexString(cases[i].AsSpan(0, Math.Min(48, cases[i].Length)))}...) threw {error}");
                var expected = PayloadOracle.Expected(cases[i], MaxValueBytes, Now);
                if (expected is null)
                {
                    Assert.True(value is null, $"case {i} ({Convert.ToHexString(cases[i].AsSpan(0, Math.Min(48, cases[i].Length)))}...) should read as a miss but read {value?.Length} bytes");
                }
                else
                {
                    Assert.True(value is not null, $"case {i} ({Convert.ToHexString(cases[i].AsSpan(0, Math.Min(48, cases[i].Length)))}...) should read as its {expected.Length}-byte value but missed");
                    Assert.True(expected.AsSpan().SequenceEqual(value), $"case {i} read other bytes than it encodes");
                }
            }
        }

        return results;
    }
}
