using ZsCache.Pool;

namespace ZsCache.Tests.Pool;

/// <summary>Deterministic object contents: byte i of object <c>id</c> is a hash of (id, i),
/// so any torn, moved or foreign byte is detected.</summary>
internal static class PoolTestData
{
    public static byte PatternByte(long id, int i)
    {
        ulong x = ((ulong)id * 0x9E3779B97F4A7C15UL) ^ ((ulong)i * 0xBF58476D1CE4E5B9UL);
        x ^= x >> 29;
        return (byte)(x ^ (x >> 17));
    }

    public static byte[] Pattern(long id, int length)
    {
        var bytes = new byte[length];
        for (int i = 0; i < length; i++)
        {
            bytes[i] = PatternByte(id, i);
        }

        return bytes;
    }

    public static bool MatchesPattern(ReadOnlySpan<byte> data, long id, int length)
    {
        if (data.Length != length)
        {
            return false;
        }

        for (int i = 0; i < data.Length; i++)
        {
            if (data[i] != PatternByte(id, i))
            {
                return false;
            }
        }

        return true;
    }

    public static ZsHandle Store(ZsPool pool, long id, int length)
    {
        Assert.True(pool.TryMalloc(length, out ZsHandle handle), $"allocation of {length} bytes failed");
        pool.Write(handle, 0, Pattern(id, length));
        return handle;
    }

    public static byte[] ReadAll(ZsPool pool, ZsHandle handle) =>
        pool.Read(handle, 0, static (data, _) => data.ToArray());

    public static bool Verify(ZsPool pool, ZsHandle handle, long id, int length) =>
        pool.Read(handle, (id, length), static (data, s) => MatchesPattern(data, s.id, s.length));
}
