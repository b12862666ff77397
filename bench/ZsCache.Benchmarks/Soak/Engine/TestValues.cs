using System.Buffers.Binary;

namespace ZsCache.Soak;

/// <summary>
/// Values that say which key and which write made them, with content derived from both, so a
/// read can be checked byte for byte: a torn, misplaced, stale or corrupt value is always caught.
/// </summary>
/// <remarks>
/// <code>
/// offset size field
/// 0      4    magic "RLV1"
/// 4      4    key index (little-endian)
/// 8      8    write id (little-endian), unique per run
/// 16     4    total length
/// 20     n    content: words from a small vocabulary (compressible) mixed with random bytes,
///             from a generator seeded by (key index, write id); LZ4 takes it to about half
/// </code>
/// </remarks>
internal static class TestValues
{
    public const int HeaderLength = 20;

    private const uint Magic = 0x3156_4C52; // "RLV1" little-endian

    private static readonly byte[][] Vocabulary =
    [
        .. "{\"id\": ,\"name\":\"sku-\",\"price\":,\"tags\":[\"red\",\"blue\",\"green\"]},\"stock\":true,false,null,\"description\":\"lorem ipsum dolor sit amet\",\"updated\":\"2026-11-28T02:48:55Z\",\"owner\":\"catalog\""
            .Split(',')
            .Select(System.Text.Encoding.UTF8.GetBytes),
    ];

    /// <summary>A size for a write: mostly small, some across the large-object boundary, a few big.</summary>
    public static int SizeFor(long writeId, int maxSize)
    {
        var random = new Random(unchecked((int)(writeId * 0x9E3779B1)));
        var roll = random.NextDouble();
        var size = roll switch
        {
            < 0.70 => random.Next(HeaderLength, 1024),
            < 0.92 => random.Next(1024, 6 * 1024),
            < 0.98 => random.Next(6 * 1024, 24 * 1024),
            _ => random.Next(24 * 1024, 120 * 1024),
        };
        return Math.Clamp(size, HeaderLength, Math.Max(HeaderLength, maxSize));
    }

    public static byte[] Create(int keyIndex, long writeId, int size)
    {
        var value = new byte[Math.Max(size, HeaderLength)];
        Fill(value, keyIndex, writeId);
        return value;
    }

    private static void Fill(Span<byte> value, int keyIndex, long writeId)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(value, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(value[4..], keyIndex);
        BinaryPrimitives.WriteInt64LittleEndian(value[8..], writeId);
        BinaryPrimitives.WriteInt32LittleEndian(value[16..], value.Length);
        var state = (ulong)writeId * 0x9E3779B97F4A7C15UL ^ ((ulong)(uint)keyIndex << 17) ^ 0xD1B54A32D192ED03UL;
        var at = HeaderLength;
        Span<byte> noise = stackalloc byte[4];
        while (at < value.Length)
        {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            if ((state & 0xFF) < 150)
            {
                var word = Vocabulary[(int)((state >> 8) % (ulong)Vocabulary.Length)];
                var n = Math.Min(word.Length, value.Length - at);
                word.AsSpan(0, n).CopyTo(value[at..]);
                at += n;
            }
            else
            {
                BinaryPrimitives.WriteUInt32LittleEndian(noise, (uint)(state >> 24));
                var n = Math.Min(noise.Length, value.Length - at);
                noise[..n].CopyTo(value[at..]);
                at += n;
            }
        }
    }

    /// <summary>What a read value turned out to be.</summary>
    public enum Check
    {
        Valid,
        Corrupt,
    }

    /// <summary>Checks <paramref name="value"/> is exactly some write's value; returns whose.</summary>
    public static Check Verify(ReadOnlySpan<byte> value, out int keyIndex, out long writeId)
    {
        keyIndex = -1;
        writeId = -1;
        if (value.Length < HeaderLength
            || BinaryPrimitives.ReadUInt32LittleEndian(value) != Magic
            || BinaryPrimitives.ReadInt32LittleEndian(value[16..]) != value.Length)
        {
            return Check.Corrupt;
        }

        keyIndex = BinaryPrimitives.ReadInt32LittleEndian(value[4..]);
        writeId = BinaryPrimitives.ReadInt64LittleEndian(value[8..]);
        // A fresh buffer: nothing of the checker's stays in memory after a run (memory tests measure it).
        var expected = new byte[value.Length];
        Fill(expected, keyIndex, writeId);
        return expected.AsSpan().SequenceEqual(value) ? Check.Valid : Check.Corrupt;
    }
}
