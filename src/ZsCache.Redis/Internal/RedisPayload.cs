using System.Buffers.Binary;
using System.IO.Hashing;
using ZsCache.Writeback;

namespace ZsCache.Redis.Internal;

// The Redis payload, format version 2. One Redis string per cache key (InstanceName + key).
// A value is a fixed 40-byte header, the data bytes exactly as the pool held them (compressed
// or raw; never recompressed), then a 4-byte checksum. A fence is the header alone. Every
// integer is big-endian.
//
//  offset size field
//  0      2    magic "ZS" (0x5A 0x53)
//  2      1    format version (2)
//  3      1    flags: bit 0 = fence (tombstone); every other bit must be 0
//  4      1    codec (ZsCodec: 0 raw, 1 LZ4)
//  5      1    dictionary id (0 = none)
//  6      2    reserved, 0
//  8      8    entry version (int64 >= 0); at this fixed offset so the write script compares
//              versions on GETRANGE key 0 15 without parsing the rest
//  16     4    original length (int32 >= 0): the value's length once decoded
//  20     4    data length (int32 >= 0): the bytes between the header and the checksum
//  24     8    absolute expiration, unix milliseconds (0 = none)
//  32     8    sliding window, milliseconds (0 = none)
//  40     n    data (values only)
//  40+n   4    checksum (values only): CRC-32 (IEEE, System.IO.Hashing.Crc32) of bytes 0 .. 40+n-1
//
// Why a trailing CRC-32: the covered bytes are one contiguous span (a single allocation-free
// hash call), and a CRC detects every single-bit error and every burst of up to 32 bits in the
// header, the data and the checksum itself, not just nearly all of them. The header keeps its
// v1 size, so Refresh still reads bytes 0..39. Fences carry no checksum: the fence script
// writes fences whose version it copies from the value it replaces, and Lua cannot compute a
// CRC; a fence reads as a miss whatever its version, and being 4 bytes shorter than the
// shortest value, no single flipped bit turns one into the other.
//
// Bytes 0..15 (magic, format version, flags, version) keep their meaning in every format
// version, so scripts of any version order any two payloads. Format 1 (40-byte header, no
// checksum; never released) reads as a miss. docs/redis-format.md describes the TTL rule,
// fences and the compatibility policy. Decoding never throws and never allocates: it checks
// every field against the caller's caps, then the length, then the checksum, and slices the input.

/// <summary>The fields of a payload header.</summary>
internal readonly record struct RedisPayloadHeader(
    bool IsFence,
    ZsCodec Codec,
    byte DictionaryId,
    long Version,
    int OriginalLength,
    int DataLength,
    long AbsoluteExpirationUnixMs,
    long SlidingMs);

/// <summary>Caps the decoder holds declared lengths to (from the cache's MaxValueBytes).</summary>
internal readonly record struct RedisPayloadLimits(int MaxOriginalLength, int MaxDataLength);

/// <summary>Why a payload was accepted or refused, for the warning that a refusal logs.</summary>
internal enum RedisPayloadStatus
{
    /// <summary>Accepted.</summary>
    Valid,

    /// <summary>Too short for a header, or not starting with the magic: not ours.</summary>
    Foreign,

    /// <summary>Our magic, but a format version this build does not read (format 1 among them).</summary>
    UnknownFormat,

    /// <summary>A header field out of range or inconsistent with another.</summary>
    InvalidHeader,

    /// <summary>The bytes present are not the length the header declares.</summary>
    LengthMismatch,

    /// <summary>Everything checks out but the checksum: the bytes changed after they were written.</summary>
    ChecksumMismatch,
}

/// <summary>Encodes and decodes the Redis payload (layout at the top of this file).</summary>
internal static class RedisPayload
{
    /// <summary>Length of the fixed header; also the whole length of a fence.</summary>
    public const int HeaderLength = 40;

    /// <summary>Length of the checksum that ends a value.</summary>
    public const int ChecksumLength = 4;

    /// <summary>Bytes 0..15 of the header: what the scripts read to order payloads.</summary>
    public const int OrderingPrefixLength = 16;

    /// <summary>The current format version.</summary>
    public const byte FormatVersion = 2;

    /// <summary>Flag bit of a fence.</summary>
    public const byte FenceFlag = 0x01;

    private const byte Magic0 = (byte)'Z';
    private const byte Magic1 = (byte)'S';

    // DateTimeOffset.MaxValue in unix milliseconds: anything larger cannot be an expiration.
    private const long MaxUnixMs = 253_402_300_799_999;

    // TimeSpan.MaxValue in milliseconds.
    private const long MaxSlidingMs = long.MaxValue / TimeSpan.TicksPerMillisecond;

    /// <summary>The longest payload a cache with these limits writes: what a read may fetch at most.</summary>
    public static long MaxLength(RedisPayloadLimits limits) => HeaderLength + (long)limits.MaxDataLength + ChecksumLength;

    /// <summary>The whole length of the payload whose header this is.</summary>
    public static long LengthOf(in RedisPayloadHeader header) =>
        header.IsFence ? HeaderLength : HeaderLength + (long)header.DataLength + ChecksumLength;

    /// <summary>Encodes a value to store. Throws for items no cache should produce (programming errors).</summary>
    public static byte[] Encode(ZsWritebackItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentOutOfRangeException.ThrowIfNegative(item.Version, nameof(item));
        ArgumentOutOfRangeException.ThrowIfNegative(item.OriginalLength, nameof(item));
        if (item.Codec is not (ZsCodec.Raw or ZsCodec.Lz4))
        {
            throw new ArgumentOutOfRangeException(nameof(item), item.Codec, "Unknown codec.");
        }

        var absolute = 0L;
        if (item.AbsoluteExpiration is { } at)
        {
            absolute = at.ToUnixTimeMilliseconds();
            ArgumentOutOfRangeException.ThrowIfNegativeOrZero(absolute, nameof(item));
        }

        var sliding = 0L;
        if (item.SlidingExpiration is { } window)
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(window, TimeSpan.Zero, nameof(item));
            // Rounded up so that a sub-millisecond window is still a window, but never past
            // TimeSpan.MaxValue, which a reader could not turn back into a TimeSpan.
            sliding = Math.Min(MaxSlidingMs, (window.Ticks / TimeSpan.TicksPerMillisecond) + (window.Ticks % TimeSpan.TicksPerMillisecond == 0 ? 0 : 1));
        }

        var data = item.Data.Span;
        var payload = new byte[HeaderLength + data.Length + ChecksumLength];
        WriteHeader(payload, new RedisPayloadHeader(false, item.Codec, item.DictionaryId, item.Version, item.OriginalLength, data.Length, absolute, sliding));
        data.CopyTo(payload.AsSpan(HeaderLength));
        var covered = payload.Length - ChecksumLength;
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(covered), Crc32.HashToUInt32(payload.AsSpan(0, covered)));
        return payload;
    }

    /// <summary>Encodes a fence (tombstone) of <paramref name="version"/>: a header alone.</summary>
    public static byte[] EncodeFence(long version)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(version);
        var payload = new byte[HeaderLength];
        WriteHeader(payload, new RedisPayloadHeader(true, ZsCodec.Raw, 0, version, 0, 0, 0, 0));
        return payload;
    }

    private static void WriteHeader(Span<byte> destination, in RedisPayloadHeader header)
    {
        destination[0] = Magic0;
        destination[1] = Magic1;
        destination[2] = FormatVersion;
        destination[3] = header.IsFence ? FenceFlag : (byte)0;
        destination[4] = (byte)header.Codec;
        destination[5] = header.DictionaryId;
        destination[6] = 0;
        destination[7] = 0;
        BinaryPrimitives.WriteInt64BigEndian(destination[8..], header.Version);
        BinaryPrimitives.WriteInt32BigEndian(destination[16..], header.OriginalLength);
        BinaryPrimitives.WriteInt32BigEndian(destination[20..], header.DataLength);
        BinaryPrimitives.WriteInt64BigEndian(destination[24..], header.AbsoluteExpirationUnixMs);
        BinaryPrimitives.WriteInt64BigEndian(destination[32..], header.SlidingMs);
    }

    /// <summary>
    /// Reads and checks a header (the first <see cref="HeaderLength"/> bytes; more may follow).
    /// Everything but the length against the bytes present and the checksum is checked. Never throws.
    /// </summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> bytes, RedisPayloadLimits limits, out RedisPayloadHeader header) =>
        ReadHeader(bytes, limits, out header) == RedisPayloadStatus.Valid;

    /// <inheritdoc cref="TryReadHeader"/>
    public static RedisPayloadStatus ReadHeader(ReadOnlySpan<byte> bytes, RedisPayloadLimits limits, out RedisPayloadHeader header)
    {
        header = default;
        if (bytes.Length < 3 || bytes[0] != Magic0 || bytes[1] != Magic1)
        {
            return RedisPayloadStatus.Foreign;
        }

        if (bytes[2] != FormatVersion)
        {
            return RedisPayloadStatus.UnknownFormat;
        }

        if (bytes.Length < HeaderLength)
        {
            return RedisPayloadStatus.LengthMismatch;
        }

        if ((bytes[3] & ~FenceFlag) != 0 || bytes[6] != 0 || bytes[7] != 0)
        {
            return RedisPayloadStatus.InvalidHeader;
        }

        var isFence = (bytes[3] & FenceFlag) != 0;
        var codec = (ZsCodec)bytes[4];
        var dictionary = bytes[5];
        var version = BinaryPrimitives.ReadInt64BigEndian(bytes[8..]);
        var original = BinaryPrimitives.ReadInt32BigEndian(bytes[16..]);
        var dataLength = BinaryPrimitives.ReadInt32BigEndian(bytes[20..]);
        var absolute = BinaryPrimitives.ReadInt64BigEndian(bytes[24..]);
        var sliding = BinaryPrimitives.ReadInt64BigEndian(bytes[32..]);

        if (version < 0
            || original < 0 || original > limits.MaxOriginalLength
            || dataLength < 0 || dataLength > limits.MaxDataLength
            || absolute < 0 || absolute > MaxUnixMs
            || sliding < 0 || sliding > MaxSlidingMs)
        {
            return RedisPayloadStatus.InvalidHeader;
        }

        var consistent = codec switch
        {
            // A raw value is its data; a dictionary means nothing to it.
            ZsCodec.Raw => dataLength == original && dictionary == 0,
            // LZ4's worst case (incompressible input): n + n/255 + 16. The cache stores raw when
            // LZ4 does not shrink a value, but the reader only needs the bound.
            ZsCodec.Lz4 => dataLength <= original + (original / 255) + 16 && (original == 0 || dataLength > 0),
            _ => false,
        };
        if (!consistent)
        {
            return RedisPayloadStatus.InvalidHeader;
        }

        if (isFence && (codec != ZsCodec.Raw || original != 0 || absolute != 0 || sliding != 0))
        {
            return RedisPayloadStatus.InvalidHeader;
        }

        header = new RedisPayloadHeader(isFence, codec, dictionary, version, original, dataLength, absolute, sliding);
        return RedisPayloadStatus.Valid;
    }

    /// <summary>
    /// Decodes a whole payload: a valid header, exactly <see cref="RedisPayloadHeader.DataLength"/>
    /// bytes after it and, for a value, the checksum of both. <paramref name="data"/> is a slice of
    /// <paramref name="payload"/> (no copy). Never throws.
    /// </summary>
    public static bool TryDecode(ReadOnlyMemory<byte> payload, RedisPayloadLimits limits, out RedisPayloadHeader header, out ReadOnlyMemory<byte> data) =>
        Decode(payload, limits, out header, out data) == RedisPayloadStatus.Valid;

    /// <inheritdoc cref="TryDecode"/>
    public static RedisPayloadStatus Decode(ReadOnlyMemory<byte> payload, RedisPayloadLimits limits, out RedisPayloadHeader header, out ReadOnlyMemory<byte> data)
    {
        data = default;
        var bytes = payload.Span;
        var status = ReadHeader(bytes, limits, out header);
        if (status == RedisPayloadStatus.Valid && LengthOf(header) != bytes.Length)
        {
            status = RedisPayloadStatus.LengthMismatch;
        }

        if (status == RedisPayloadStatus.Valid && !header.IsFence)
        {
            var covered = bytes.Length - ChecksumLength;
            if (Crc32.HashToUInt32(bytes[..covered]) != BinaryPrimitives.ReadUInt32BigEndian(bytes[covered..]))
            {
                status = RedisPayloadStatus.ChecksumMismatch;
            }
        }

        if (status != RedisPayloadStatus.Valid)
        {
            header = default;
            return status;
        }

        data = payload.Slice(HeaderLength, header.DataLength);
        return status;
    }

    /// <summary>Words for a refusal of a <paramref name="length"/>-byte payload, for the warning (no payload bytes: they may be anyone's data).</summary>
    public static string Describe(RedisPayloadStatus status, long length, ReadOnlySpan<byte> start) => status switch
    {
        RedisPayloadStatus.Foreign => $"{length} bytes without the ZsCache magic",
        RedisPayloadStatus.UnknownFormat => $"{length} bytes of format version {start[2]}, which this build does not read (it reads {FormatVersion})",
        RedisPayloadStatus.InvalidHeader => $"{length} bytes with an invalid header",
        RedisPayloadStatus.LengthMismatch => $"{length} bytes, not the length its header declares",
        RedisPayloadStatus.ChecksumMismatch => $"{length} bytes whose checksum does not match: changed after they were written",
        _ => $"{length} bytes",
    };

    /// <summary>The value a decoded, non-fence payload carries.</summary>
    public static ZsWritebackValue ToValue(in RedisPayloadHeader header, ReadOnlyMemory<byte> data) => new()
    {
        Version = header.Version,
        Codec = header.Codec,
        DictionaryId = header.DictionaryId,
        OriginalLength = header.OriginalLength,
        Data = data,
        AbsoluteExpiration = header.AbsoluteExpirationUnixMs == 0 ? null : DateTimeOffset.FromUnixTimeMilliseconds(header.AbsoluteExpirationUnixMs),
        SlidingExpiration = header.SlidingMs == 0 ? null : TimeSpan.FromMilliseconds(header.SlidingMs),
    };
}
