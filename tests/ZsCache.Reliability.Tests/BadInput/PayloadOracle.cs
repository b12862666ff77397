using System.Buffers.Binary;
using K4os.Compression.LZ4;
using ZsCache.Testing.Payload;

namespace ZsCache.Reliability.Tests.BadInput;

/// <summary>
/// The header fields of a payload, as docs/redis-format.md lays them out, and how it ends:
/// <see cref="WithChecksum"/> null for what the format says (values end with a checksum, fences
/// do not), <see cref="Checksum"/> null for the right one.
/// </summary>
internal record struct PayloadFields(
    byte[] Magic,
    byte Format,
    byte Flags,
    byte Codec,
    byte Dictionary,
    ushort Reserved,
    long Version,
    int OriginalLength,
    int DataLength,
    long AbsoluteUnixMs,
    long SlidingMs,
    bool? WithChecksum = null,
    uint? Checksum = null)
{
    public static PayloadFields For(byte codec, int original, int data) =>
        new("ZS"u8.ToArray(), 2, 0, codec, 0, 0, 1, original, data, 0, 0);
}

/// <summary>
/// An independent reading of docs/redis-format.md (not the library's decoder, nor its CRC):
/// builds payloads field by field, and says what a cache with the given limits must return for
/// a payload: the value it encodes, or a miss.
/// </summary>
internal static class PayloadOracle
{
    public const int HeaderLength = 40;
    public const int ChecksumLength = 4;

    private const long MaxUnixMs = 253_402_300_799_999;
    private const long MaxSlidingMs = long.MaxValue / TimeSpan.TicksPerMillisecond;

    public static byte[] Build(PayloadFields f, ReadOnlySpan<byte> data)
    {
        var trailer = f.WithChecksum ?? (f.Flags & 1) == 0;
        var payload = new byte[HeaderLength + data.Length + (trailer ? ChecksumLength : 0)];
        f.Magic.AsSpan(0, Math.Min(2, f.Magic.Length)).CopyTo(payload);
        payload[2] = f.Format;
        payload[3] = f.Flags;
        payload[4] = f.Codec;
        payload[5] = f.Dictionary;
        BinaryPrimitives.WriteUInt16BigEndian(payload.AsSpan(6), f.Reserved);
        BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(8), f.Version);
        BinaryPrimitives.WriteInt32BigEndian(payload.AsSpan(16), f.OriginalLength);
        BinaryPrimitives.WriteInt32BigEndian(payload.AsSpan(20), f.DataLength);
        BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(24), f.AbsoluteUnixMs);
        BinaryPrimitives.WriteInt64BigEndian(payload.AsSpan(32), f.SlidingMs);
        data.CopyTo(payload.AsSpan(HeaderLength));
        if (trailer)
        {
            var covered = payload.Length - ChecksumLength;
            BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(covered), f.Checksum ?? Crc32Reference.Compute(payload.AsSpan(0, covered)));
        }

        return payload;
    }

    /// <summary>Rewrites the last four bytes as the checksum of the rest, as a writer that produced these bytes on purpose would.</summary>
    public static byte[] Resign(byte[] payload)
    {
        if (payload.Length >= HeaderLength + ChecksumLength)
        {
            var covered = payload.Length - ChecksumLength;
            BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(covered), Crc32Reference.Compute(payload.AsSpan(0, covered)));
        }

        return payload;
    }

    /// <summary>A valid payload of <paramref name="value"/>, LZ4 when it shrinks, else raw.</summary>
    public static byte[] Valid(byte[] value, long version = 1, long absoluteUnixMs = 0, long slidingMs = 0)
    {
        var target = new byte[LZ4Codec.MaximumOutputSize(value.Length)];
        var n = value.Length >= 16 ? LZ4Codec.Encode(value, target) : -1;
        var lz4 = n > 0 && n < value.Length;
        var data = lz4 ? target.AsSpan(0, n) : value;
        return Build(PayloadFields.For(lz4 ? (byte)1 : (byte)0, value.Length, data.Length) with
        {
            Version = version,
            AbsoluteUnixMs = absoluteUnixMs,
            SlidingMs = slidingMs,
        }, data);
    }

    /// <summary>What a cache must return for <paramref name="payload"/>: the value, or null for a miss.</summary>
    public static byte[]? Expected(ReadOnlySpan<byte> payload, int maxValueBytes, DateTimeOffset now)
    {
        if (payload.Length < HeaderLength || payload[0] != 'Z' || payload[1] != 'S' || payload[2] != 2
            || (payload[3] & ~1) != 0 || payload[6] != 0 || payload[7] != 0)
        {
            // Format 1 among them: it reads as a miss.
            return null;
        }

        var fence = (payload[3] & 1) != 0;
        if (fence)
        {
            // A fence reads as a miss, valid or not.
            return null;
        }

        var codec = payload[4];
        var dictionary = payload[5];
        var version = BinaryPrimitives.ReadInt64BigEndian(payload[8..]);
        var original = BinaryPrimitives.ReadInt32BigEndian(payload[16..]);
        var dataLength = BinaryPrimitives.ReadInt32BigEndian(payload[20..]);
        var absolute = BinaryPrimitives.ReadInt64BigEndian(payload[24..]);
        var sliding = BinaryPrimitives.ReadInt64BigEndian(payload[32..]);
        var maxData = maxValueBytes + (maxValueBytes / 255) + 16;
        if (version < 0 || original < 0 || original > maxValueBytes || dataLength < 0 || dataLength > maxData
            || absolute < 0 || absolute > MaxUnixMs || sliding < 0 || sliding > MaxSlidingMs
            || (long)HeaderLength + dataLength + ChecksumLength != payload.Length)
        {
            return null;
        }

        var covered = payload.Length - ChecksumLength;
        if (Crc32Reference.Compute(payload[..covered]) != BinaryPrimitives.ReadUInt32BigEndian(payload[covered..]))
        {
            return null;
        }

        var consistent = codec switch
        {
            0 => dataLength == original && dictionary == 0,
            1 => dataLength <= original + (original / 255) + 16 && (original == 0 || dataLength > 0),
            _ => false,
        };
        if (!consistent || dictionary != 0)
        {
            // A dictionary the cache does not know is refused.
            return null;
        }

        if (absolute != 0 && absolute * TimeSpan.TicksPerMillisecond <= now.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks)
        {
            return null;
        }

        var data = payload.Slice(HeaderLength, dataLength);
        if (codec == 0)
        {
            return data.ToArray();
        }

        var value = new byte[original];
        return LZ4Codec.Decode(data, value) == original ? value : null;
    }
}
