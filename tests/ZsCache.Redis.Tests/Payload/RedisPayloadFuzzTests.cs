using ZsCache.Redis.Internal;
using ZsCache.Writeback;

namespace ZsCache.Redis.Tests.Payload;

/// <summary>
/// Random and mutated inputs through the decoder: it never throws, whatever it accepts is fully
/// consistent (re-encoding the decoded fields gives back exactly the input), and no damage to a
/// value is accepted: a changed value reads as a miss, never as other bytes. Seeds are fixed so
/// a failure reproduces.
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
    public void Mutated_valid_payloads_never_throw_and_only_a_fence_with_another_version_is_accepted()
    {
        var random = new Random(7);
        var accepted = 0;
        for (var i = 0; i < Iterations; i++)
        {
            var valid = RandomPayload(random);
            var mutated = Mutate(random, valid, out var kind);
            if (mutated.AsSpan().SequenceEqual(valid))
            {
                // A byte overwritten with itself: not a mutation.
                Assert.True(Check(mutated));
                continue;
            }

            if (Check(mutated))
            {
                // The checksum covers every byte of a value; a fence's version is its only
                // unprotected field, and a fence of any version reads as a miss.
                accepted++;
                Assert.True(kind is "bitflip" or "byte", $"a {kind} was accepted");
                Assert.True(IsFence(valid) && IsFence(mutated) && ChangedOnlyIn(valid, mutated, 8, 16), $"a {kind} of a {(IsFence(valid) ? "fence" : "value")} was accepted");
            }
        }

        // Some fences took a flip in their version.
        Assert.InRange(accepted, 1, Iterations / 8);
    }

    [Fact]
    public void Every_single_bit_flip_of_a_valid_payload_is_refused_or_leaves_a_fence()
    {
        var random = new Random(11);
        var flips = 0;
        for (var i = 0; i < 300; i++)
        {
            var payload = RandomPayload(random);
            var fence = IsFence(payload);
            for (var bit = 0; bit < payload.Length * 8; bit++, flips++)
            {
                payload[bit / 8] ^= (byte)(1 << (bit % 8));
                var accepted = RedisPayload.TryDecode(payload, RedisPayloadTests.Limits, out var header, out _);
                Assert.False(accepted && !(fence && header.IsFence && bit / 8 is >= 8 and < 16), $"payload {i}: bit {bit} flipped was accepted");
                payload[bit / 8] ^= (byte)(1 << (bit % 8));
            }
        }

        Assert.True(flips > 100_000, $"{flips} flips");
    }

    [Fact]
    public void Two_and_three_bit_flips_of_a_value_are_refused()
    {
        // CRC-32 has a Hamming distance of at least 4 up to 91,607 bits, so every error of up to
        // three bits in a payload of under 11 KB is caught, not just nearly every one.
        var random = new Random(13);
        for (var i = 0; i < Iterations; i++)
        {
            var payload = RandomPayload(random);
            if (IsFence(payload))
            {
                continue;
            }

            var damaged = (byte[])payload.Clone();
            var bits = new HashSet<int>();
            while (bits.Count < 2 + random.Next(2))
            {
                bits.Add(random.Next(damaged.Length * 8));
            }

            foreach (var bit in bits)
            {
                damaged[bit / 8] ^= (byte)(1 << (bit % 8));
            }

            Assert.False(RedisPayload.TryDecode(damaged, RedisPayloadTests.Limits, out _, out _), $"flips {string.Join(", ", bits)} of payload {i} were accepted");
        }
    }

    private static bool IsFence(byte[] payload) => payload.Length > 3 && (payload[3] & RedisPayload.FenceFlag) != 0;

    private static bool ChangedOnlyIn(byte[] before, byte[] after, int start, int end)
    {
        if (before.Length != after.Length)
        {
            return false;
        }

        for (var i = 0; i < before.Length; i++)
        {
            if (before[i] != after[i] && (i < start || i >= end))
            {
                return false;
            }
        }

        return true;
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

        Assert.Equal(RedisPayload.LengthOf(header), bytes.Length);
        Assert.Equal(header.DataLength, data.Length);
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
