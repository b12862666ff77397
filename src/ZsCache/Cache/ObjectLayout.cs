using System.Buffers.Binary;

namespace ZsCache.Cache;

/// <summary>
/// How an entry's object is laid out in the pool. Keys live beside their values (in memory the
/// GC never walks), so the index holds no key strings; reclaim reads the key back from the
/// object it is writing back.
/// <code>
/// offset  size  field
/// 0       4     key hash (the index's, little-endian; lets reclaim find the index entry)
/// 4       2     key length in UTF-8 bytes (little-endian)
/// 6       k     key, UTF-8
/// 6+k     n     value data as encoded (compressed or raw)
/// </code>
/// </summary>
internal static class ObjectLayout
{
    public const int HeaderSize = 6;

    /// <summary>Keys are capped so their length fits the two-byte field; real keys are far shorter.</summary>
    public const int MaxKeyBytes = ushort.MaxValue;

    public static void WriteHeader(Span<byte> destination, int hash, int keyLength)
    {
        BinaryPrimitives.WriteInt32LittleEndian(destination, hash);
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], checked((ushort)keyLength));
    }

    public static int ReadHash(ReadOnlySpan<byte> obj) => BinaryPrimitives.ReadInt32LittleEndian(obj);

    public static ReadOnlySpan<byte> Key(ReadOnlySpan<byte> obj)
    {
        int length = BinaryPrimitives.ReadUInt16LittleEndian(obj[4..]);
        return obj.Slice(HeaderSize, length);
    }

    public static ReadOnlySpan<byte> Data(ReadOnlySpan<byte> obj)
    {
        int length = BinaryPrimitives.ReadUInt16LittleEndian(obj[4..]);
        return obj[(HeaderSize + length)..];
    }
}
