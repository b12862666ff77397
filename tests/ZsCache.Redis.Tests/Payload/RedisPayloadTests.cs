using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text;
using ZsCache.Redis.Internal;
using ZsCache.Testing.Payload;
using ZsCache.Writeback;

namespace ZsCache.Redis.Tests.Payload;

public class RedisPayloadTests
{
    internal static readonly RedisPayloadLimits Limits = new(1 << 20, (1 << 20) + ((1 << 20) / 255) + 16);

    private static readonly DateTimeOffset Absolute = new(2030, 6, 1, 12, 0, 0, TimeSpan.Zero);

    internal static ZsWritebackItem Item(
        byte[] data,
        ZsCodec codec = ZsCodec.Raw,
        long version = 1,
        int? originalLength = null,
        byte dictionary = 0,
        DateTimeOffset? absolute = null,
        TimeSpan? sliding = null) => new()
        {
            Key = "k",
            Version = version,
            Codec = codec,
            DictionaryId = dictionary,
            OriginalLength = originalLength ?? data.Length,
            Data = data,
            AbsoluteExpiration = absolute,
            SlidingExpiration = sliding,
            TimeToLive = TimeSpan.FromMinutes(5),
        };

    // The snapshots pin format version 2 byte for byte. A failure here means the format changed:
    // that needs a new format version and the compatibility note in docs/redis-format.md, not a
    // new snapshot. (ZSCACHE_UPDATE_SNAPSHOTS=1 writes missing files only.) Snapshots/format1
    // keeps format 1's bytes, which must read as a miss.
    public static TheoryData<string> Snapshots => ["raw-no-expiration", "lz4-dictionary-absolute-sliding", "fence"];

    private static byte[] SnapshotPayload(string name) => name switch
    {
        "raw-no-expiration" => RedisPayload.Encode(Item(Encoding.UTF8.GetBytes("hello"), version: 42)),
        "lz4-dictionary-absolute-sliding" => RedisPayload.Encode(Item(
            [0x11, 0x22, 0x33, 0x44, 0x55, 0x66],
            ZsCodec.Lz4,
            version: 0x0102030405060708,
            originalLength: 300,
            dictionary: 7,
            absolute: Absolute,
            sliding: TimeSpan.FromMinutes(20))),
        "fence" => RedisPayload.EncodeFence(0x7FFF_0000_0000_0001),
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(Snapshots))]
    public void Encoding_matches_the_committed_snapshot(string name)
    {
        var path = SnapshotPath(name);
        var actual = Convert.ToHexString(SnapshotPayload(name));
        if (!File.Exists(path) && Environment.GetEnvironmentVariable("ZSCACHE_UPDATE_SNAPSHOTS") == "1")
        {
            File.WriteAllText(path, actual + "\n");
        }

        Assert.True(File.Exists(path), $"Missing snapshot {path}; its bytes would be {actual}");
        Assert.Equal(File.ReadAllText(path).Trim(), actual);
    }

    [Theory]
    [MemberData(nameof(Snapshots))]
    public void Committed_snapshot_decodes(string name)
    {
        var bytes = Convert.FromHexString(File.ReadAllText(SnapshotPath(name)).Trim());
        Assert.True(RedisPayload.TryDecode(bytes, Limits, out var header, out var data));
        Assert.Equal(header.DataLength, data.Length);
        Assert.Equal(name == "fence", header.IsFence);
    }

    [Theory]
    [MemberData(nameof(Snapshots))]
    public void Format_1_payloads_are_refused_as_an_unknown_format(string name)
    {
        var bytes = Convert.FromHexString(File.ReadAllText(SnapshotPath(name, format1: true)).Trim());
        Assert.Equal(1, bytes[2]);
        Assert.Equal(RedisPayloadStatus.UnknownFormat, RedisPayload.Decode(bytes, Limits, out _, out _));
        Assert.Equal(RedisPayloadStatus.UnknownFormat, RedisPayload.ReadHeader(bytes, Limits, out _));

        // Bytes 0..15, what the scripts order payloads by, are the same in both formats.
        var now = SnapshotPayload(name);
        Assert.Equal(bytes.AsSpan(0, 2).ToArray(), now.AsSpan(0, 2).ToArray());
        Assert.Equal(bytes.AsSpan(3, 13).ToArray(), now.AsSpan(3, 13).ToArray());
    }

    [Fact]
    public void A_value_ends_with_the_crc32_of_everything_before_it()
    {
        var payload = RedisPayload.Encode(Item(Encoding.UTF8.GetBytes("checksummed"), version: 7, sliding: TimeSpan.FromSeconds(30)));
        var covered = payload.Length - RedisPayload.ChecksumLength;
        Assert.Equal(Crc32Reference.Compute(payload.AsSpan(0, covered)), BinaryPrimitives.ReadUInt32BigEndian(payload.AsSpan(covered)));
        Assert.Equal(0xCBF43926u, Crc32Reference.Compute("123456789"u8)); // the reference is the standard CRC-32
    }

    [Fact]
    public void A_fence_is_a_header_alone_and_refused_with_a_checksum_or_data_after_it()
    {
        var fence = RedisPayload.EncodeFence(99);
        Assert.Equal(RedisPayload.HeaderLength, fence.Length);
        var withChecksum = fence.Concat(BitConverter.GetBytes(Crc32Reference.Compute(fence))).ToArray();
        Assert.Equal(RedisPayloadStatus.LengthMismatch, RedisPayload.Decode(withChecksum, Limits, out _, out _));

        // A value stripped of its checksum, or cut to its header: never mistaken for anything.
        var value = RedisPayload.Encode(Item([]));
        Assert.Equal(RedisPayloadStatus.LengthMismatch, RedisPayload.Decode(value[..^RedisPayload.ChecksumLength], Limits, out _, out _));
    }

    [Fact]
    public void A_changed_data_byte_is_refused_as_a_checksum_mismatch()
    {
        var payload = RedisPayload.Encode(Item(Encoding.UTF8.GetBytes("hello world"), version: 3));
        payload[RedisPayload.HeaderLength + 4] ^= 0x20;
        Assert.Equal(RedisPayloadStatus.ChecksumMismatch, RedisPayload.Decode(payload, Limits, out var header, out var data));
        Assert.Equal(default, header);
        Assert.True(data.IsEmpty);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(4096)]
    public void Every_single_bit_flip_of_a_value_is_refused(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);
        foreach (var payload in new[]
        {
            RedisPayload.Encode(Item(data, version: 0x0123_4567_89AB_CDEF, absolute: Absolute, sliding: TimeSpan.FromMinutes(1))),
            RedisPayload.Encode(Item(data, ZsCodec.Lz4, version: 5, originalLength: length == 0 ? 0 : (length * 4) + 1)),
        })
        {
            for (var bit = 0; bit < payload.Length * 8; bit++)
            {
                payload[bit / 8] ^= (byte)(1 << (bit % 8));
                Assert.False(RedisPayload.TryDecode(payload, Limits, out _, out _), $"bit {bit} of a {payload.Length}-byte value");
                payload[bit / 8] ^= (byte)(1 << (bit % 8));
            }

            Assert.True(RedisPayload.TryDecode(payload, Limits, out _, out _));
        }
    }

    [Fact]
    public void Every_single_bit_flip_of_a_fence_is_refused_or_leaves_a_fence()
    {
        var fence = RedisPayload.EncodeFence(0x0123_4567_89AB_CDEF);
        for (var bit = 0; bit < fence.Length * 8; bit++)
        {
            fence[bit / 8] ^= (byte)(1 << (bit % 8));
            if (RedisPayload.TryDecode(fence, Limits, out var header, out _))
            {
                // Only the version is unprotected (the fence script copies it from a value), and a
                // fence of any version reads as a miss.
                Assert.InRange(bit / 8, 8, 15);
                Assert.True(header.IsFence);
            }

            fence[bit / 8] ^= (byte)(1 << (bit % 8));
        }
    }

    [Fact]
    public void Decoding_allocates_nothing()
    {
        var payload = RedisPayload.Encode(Item(new byte[4096], version: 1));
        var damaged = (byte[])payload.Clone();
        damaged[100] ^= 1;
        Assert.True(RedisPayload.TryDecode(payload, Limits, out _, out _)); // JIT first
        Assert.False(RedisPayload.TryDecode(damaged, Limits, out _, out _));
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 100; i++)
        {
            _ = RedisPayload.TryDecode(payload, Limits, out _, out _);
            _ = RedisPayload.TryDecode(damaged, Limits, out _, out _);
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }

    [Fact]
    public void Refusals_are_described_without_the_payload_bytes()
    {
        var secret = Encoding.UTF8.GetBytes("password=hunter2");
        var payload = RedisPayload.Encode(Item(secret));
        payload[RedisPayload.HeaderLength] ^= 1;
        var status = RedisPayload.Decode(payload, Limits, out _, out _);
        var words = RedisPayload.Describe(status, payload.Length, payload);
        Assert.Contains("checksum", words, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", words, StringComparison.Ordinal);
        Assert.DoesNotContain(Convert.ToHexString(secret.AsSpan(1, 4)), words, StringComparison.OrdinalIgnoreCase);
        foreach (var other in Enum.GetValues<RedisPayloadStatus>())
        {
            Assert.DoesNotContain("hunter2", RedisPayload.Describe(other, payload.Length, payload), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void The_refresh_script_reads_exactly_the_header()
    {
        Assert.Contains($"'GETRANGE', KEYS[1], 0, {RedisPayload.HeaderLength - 1})", RedisScripts.ReadHeader, StringComparison.Ordinal);
    }

    [Fact]
    public void Round_trip_keeps_every_field()
    {
        var data = new byte[] { 9, 8, 7, 6 };
        var payload = RedisPayload.Encode(Item(data, ZsCodec.Lz4, version: 123456789012345, originalLength: 40, dictionary: 3, absolute: Absolute, sliding: TimeSpan.FromSeconds(90)));
        Assert.Equal(RedisPayload.HeaderLength + data.Length + RedisPayload.ChecksumLength, payload.Length);
        Assert.True(RedisPayload.TryDecode(payload, Limits, out var header, out var slice));
        var value = RedisPayload.ToValue(header, slice);
        Assert.Equal(123456789012345, value.Version);
        Assert.Equal(ZsCodec.Lz4, value.Codec);
        Assert.Equal(3, value.DictionaryId);
        Assert.Equal(40, value.OriginalLength);
        Assert.Equal(data, value.Data.ToArray());
        Assert.Equal(Absolute, value.AbsoluteExpiration);
        Assert.Equal(TimeSpan.FromSeconds(90), value.SlidingExpiration);
        Assert.False(header.IsFence);
    }

    [Fact]
    public void The_largest_sliding_window_encodes_to_one_a_reader_accepts()
    {
        var payload = RedisPayload.Encode(Item([1], sliding: TimeSpan.MaxValue));
        Assert.True(RedisPayload.TryDecode(payload, Limits, out var header, out var data));
        Assert.Equal(TimeSpan.MaxValue.Ticks / TimeSpan.TicksPerMillisecond, header.SlidingMs);
        Assert.Equal(TimeSpan.FromMilliseconds(header.SlidingMs), RedisPayload.ToValue(header, data).SlidingExpiration);

        var tick = RedisPayload.Encode(Item([1], sliding: TimeSpan.FromTicks(1)));
        Assert.True(RedisPayload.TryDecode(tick, Limits, out header, out _));
        Assert.Equal(1, header.SlidingMs);
    }

    [Fact]
    public void Version_sits_big_endian_at_offset_8_so_byte_order_is_version_order()
    {
        var low = RedisPayload.Encode(Item([1], version: 255));
        var high = RedisPayload.Encode(Item([1], version: 256));
        Assert.Equal(new byte[] { 0, 0, 0, 0, 0, 0, 0, 0xFF }, low[8..16]);
        Assert.True(low.AsSpan(8, 8).SequenceCompareTo(high.AsSpan(8, 8)) < 0);
    }

    [Fact]
    public void Empty_value_is_a_valid_payload()
    {
        var payload = RedisPayload.Encode(Item([]));
        Assert.True(RedisPayload.TryDecode(payload, Limits, out var header, out var data));
        Assert.False(header.IsFence);
        Assert.Equal(0, data.Length);
    }

    [Theory]
    [InlineData(0, "magic")]
    [InlineData(2, "format version")]
    [InlineData(3, "unknown flag")]
    [InlineData(4, "unknown codec")]
    [InlineData(6, "reserved")]
    public void Header_byte_changes_are_rejected(int offset, string because)
    {
        var payload = RedisPayload.Encode(Item([1, 2, 3]));
        payload[offset] = offset == 3 ? (byte)0x02 : (byte)0x7E;
        Assert.False(RedisPayload.TryDecode(payload, Limits, out _, out _), because);

        // Rejected by the field checks themselves, not only by the checksum.
        Resign(payload);
        Assert.False(RedisPayload.TryDecode(payload, Limits, out _, out _), because);
    }

    [Fact]
    public void Lengths_beyond_the_caps_or_the_bytes_present_are_rejected()
    {
        var payload = RedisPayload.Encode(Item(new byte[100]));
        Assert.False(RedisPayload.TryDecode(payload, new RedisPayloadLimits(99, 99), out _, out _));
        Assert.False(RedisPayload.TryDecode(payload.AsMemory(0, payload.Length - 1), Limits, out _, out _));
        Assert.False(RedisPayload.TryDecode(payload.Concat(new byte[1]).ToArray(), Limits, out _, out _));
    }

    [Fact]
    public void Raw_data_must_match_the_original_length_and_carry_no_dictionary()
    {
        Assert.Equal(RedisPayloadStatus.InvalidHeader, RedisPayload.Decode(RedisPayload.Encode(Item([1, 2], originalLength: 3)), Limits, out _, out _));
        Assert.Equal(RedisPayloadStatus.InvalidHeader, RedisPayload.Decode(RedisPayload.Encode(Item([1, 2], dictionary: 1)), Limits, out _, out _));
    }

    [Fact]
    public void Encoding_rejects_items_no_cache_should_produce()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => RedisPayload.Encode(Item([1], version: -1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => RedisPayload.Encode(Item([1], codec: (ZsCodec)9)));
        Assert.Throws<ArgumentOutOfRangeException>(() => RedisPayload.Encode(Item([1], sliding: TimeSpan.Zero)));
        Assert.Throws<ArgumentOutOfRangeException>(() => RedisPayload.Encode(Item([1], absolute: DateTimeOffset.UnixEpoch)));
        Assert.Throws<ArgumentOutOfRangeException>(() => RedisPayload.EncodeFence(-5));
    }

    /// <summary>Recomputes a value's checksum after a test changed its bytes.</summary>
    internal static void Resign(byte[] payload)
    {
        var covered = payload.Length - RedisPayload.ChecksumLength;
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(covered), Crc32Reference.Compute(payload.AsSpan(0, covered)));
    }

    private static string SnapshotPath(string name, bool format1 = false, [CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, "Snapshots", format1 ? "format1" : string.Empty, name + ".hex");
}
