using System.Runtime.CompilerServices;
using System.Text;
using ZsCache.Redis.Internal;
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

    // The snapshots pin format version 1 byte for byte. A failure here means the format changed:
    // that needs a new format version and the compatibility note in docs/redis-format.md, not a
    // new snapshot. (ZSCACHE_UPDATE_SNAPSHOTS=1 writes missing files only.)
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

    [Fact]
    public void Round_trip_keeps_every_field()
    {
        var data = new byte[] { 9, 8, 7, 6 };
        var payload = RedisPayload.Encode(Item(data, ZsCodec.Lz4, version: 123456789012345, originalLength: 40, dictionary: 3, absolute: Absolute, sliding: TimeSpan.FromSeconds(90)));
        Assert.Equal(RedisPayload.HeaderLength + data.Length, payload.Length);
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
        Assert.False(RedisPayload.TryDecode(RedisPayload.Encode(Item([1, 2], originalLength: 3)), Limits, out _, out _));
        Assert.False(RedisPayload.TryDecode(RedisPayload.Encode(Item([1, 2], dictionary: 1)), Limits, out _, out _));
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

    private static string SnapshotPath(string name, [CallerFilePath] string here = "") =>
        Path.Combine(Path.GetDirectoryName(here)!, "Snapshots", name + ".hex");
}
