using ZsCache.Redis.Internal;
using ZsCache.Writeback;

namespace ZsCache.Redis.Tests.Payload;

/// <summary>
/// Random and mutated inputs through the decoder: it never throws, and whatever it accepts is
/// fully consistent, that is, re-encoding the decoded fields gives back exactly the input.
/// Seeds are fixed so a failure reproduces.
/// </summary>
public class RedisPayloadFuzzTests
{
    private const int Iterations = 4000;

    [Fact]
    public void Random_bytes_never_throw_and_are_accepted_only_when_consistent()
    {
        var random = new Random(20240601);
        for (var i = 0; i < Iterations; i++)
        {
            var bytes = new byte[random.Next(0, 120)];
            random.NextBytes(bytes);
            if (bytes.Length >= 2 && random.Next(2) == 0)
            {
                // Give half of them the magic and version so the decoder gets past the first check.
                bytes[0] = (byte)'Z';
                bytes[1] = (byte)'S';
                if (bytes.Length > 2)
                {
                    bytes[2] = RedisPayload.FormatVersion;
                }
            }

            Check(bytes);
        }
    }

    [Fact]
    public void Mutated_valid_payloads_never_throw_and_are_accepted_only_when_consistent()
    {
        var random = new Random(7);
        var accepted = 0;
        for (var i = 0; i < Iterations; i++)
        {
            var valid = RandomPayload(random);
            var mutated = Mutate(random, valid, out var kind);
            if (Check(mutated))
            {
                accepted++;
                Assert.True(kind is "bitflip" or "byte", $"a {kind} was accepted");
            }
        }

        // Flips in the data, the version or the expirations leave a consistent payload: some pass.
        Assert.InRange(accepted, 1, Iterations - 1);
    }

    [Fact]
    public void Huge_declared_lengths_are_rejected_without_allocating_them()
    {
        var random = new Random(3);
        for (var i = 0; i < 500; i++)
        {
            var payload = RandomPayload(random);
            var offset = random.Next(2) == 0 ? 16 : 20;
            var huge = random.Next(2) == 0 ? int.MaxValue : int.MinValue + random.Next(1000);
            System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(payload.AsSpan(offset), huge);
            var before = GC.GetAllocatedBytesForCurrentThread();
            Assert.False(RedisPayload.TryDecode(payload, RedisPayloadTests.Limits, out _, out _));
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1024, "the decoder allocated");
        }
    }

    private static byte[] RandomPayload(Random random)
    {
        if (random.Next(8) == 0)
        {
            return RedisPayload.EncodeFence(random.NextInt64(0, long.MaxValue));
        }

        var data = new byte[random.Next(0, 64)];
        random.NextBytes(data);
        var lz4 = data.Length > 0 && random.Next(2) == 0;
        return RedisPayload.Encode(RedisPayloadTests.Item(
            data,
            lz4 ? ZsCodec.Lz4 : ZsCodec.Raw,
            version: random.NextInt64(0, long.MaxValue),
            originalLength: lz4 ? data.Length + random.Next(0, 1000) : data.Length,
            dictionary: lz4 ? (byte)random.Next(0, 4) : (byte)0,
            absolute: random.Next(2) == 0 ? null : DateTimeOffset.UnixEpoch.AddMilliseconds(random.NextInt64(1, 4_000_000_000_000)),
            sliding: random.Next(2) == 0 ? null : TimeSpan.FromMilliseconds(random.Next(1, int.MaxValue))));
    }

    private static byte[] Mutate(Random random, byte[] valid, out string kind)
    {
        switch (random.Next(5))
        {
            case 0:
                kind = "truncation";
                return valid[..random.Next(0, valid.Length)];
            case 1:
                kind = "extension";
                var longer = new byte[valid.Length + random.Next(1, 16)];
                valid.CopyTo(longer, 0);
                return longer;
            case 2:
                kind = "bitflip";
                var flipped = (byte[])valid.Clone();
                var bit = random.Next(flipped.Length * 8);
                flipped[bit / 8] ^= (byte)(1 << (bit % 8));
                return flipped;
            case 3:
                kind = "byte";
                var changed = (byte[])valid.Clone();
                changed[random.Next(changed.Length)] = (byte)random.Next(256);
                return changed;
            default:
                kind = "header-only";
                return valid[..Math.Min(valid.Length, RedisPayload.HeaderLength - 1)];
        }
    }

    /// <summary>Decodes; if accepted, re-encodes and requires the very same bytes. Returns whether accepted.</summary>
    private static bool Check(byte[] bytes)
    {
        var accepted = RedisPayload.TryDecode(bytes, RedisPayloadTests.Limits, out var header, out var data);
        if (!accepted)
        {
            return false;
        }

        Assert.Equal(bytes.Length - RedisPayload.HeaderLength, data.Length);
        var again = header.IsFence
            ? RedisPayload.EncodeFence(header.Version)
            : RedisPayload.Encode(new ZsWritebackItem
            {
                Key = "k",
                Version = header.Version,
                Codec = header.Codec,
                DictionaryId = header.DictionaryId,
                OriginalLength = header.OriginalLength,
                Data = data,
                AbsoluteExpiration = header.AbsoluteExpirationUnixMs == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(header.AbsoluteExpirationUnixMs),
                SlidingExpiration = header.SlidingMs == 0 ? null : TimeSpan.FromMilliseconds(header.SlidingMs),
                TimeToLive = TimeSpan.FromMinutes(1),
            });
        Assert.Equal(bytes, again);
        return true;
    }
}
