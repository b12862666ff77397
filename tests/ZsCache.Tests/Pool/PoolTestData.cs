using System.Runtime.InteropServices;
using ZsCache.Pool;

namespace ZsCache.Tests.Pool;

/// <summary>Deterministic object contents: every 8-byte word of object <c>id</c> is a hash
/// of (id, word position), so any torn, shifted, moved or foreign byte is detected. Filled
/// and checked a word at a time so large tests stay fast in Debug builds.</summary>
internal static class PoolTestData
{
    [ThreadStatic]
    private static byte[]? t_scratch;

    public static ulong Mix(ulong x)
    {
        // splitmix64's finalizer: every input bit affects every output bit.
        x += 0x9E3779B97F4A7C15UL;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9UL;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBUL;
        return x ^ (x >> 31);
    }

    public static void Fill(Span<byte> destination, long id)
    {
        ulong seed = Mix((ulong)id) << 20; // word positions of one object never reach 2^20 × 8
        Span<ulong> words = MemoryMarshal.Cast<byte, ulong>(destination);
        for (int k = 0; k < words.Length; k++)
        {
            words[k] = Mix(seed + (ulong)k);
        }

        int tail = words.Length * 8;
        if (tail < destination.Length)
        {
            Span<byte> last = stackalloc byte[8];
            MemoryMarshal.Write(last, Mix(seed + (ulong)words.Length));
            last[..(destination.Length - tail)].CopyTo(destination[tail..]);
        }
    }

    public static byte[] Pattern(long id, int length)
    {
        var bytes = new byte[length];
        Fill(bytes, id);
        return bytes;
    }

    public static bool MatchesPattern(ReadOnlySpan<byte> data, long id, int length)
    {
        if (data.Length != length)
        {
            return false;
        }

        byte[] scratch = t_scratch is { } s && s.Length >= length ? s : (t_scratch = new byte[Math.Max(length, 64 * 1024)]);
        Span<byte> expected = scratch.AsSpan(0, length);
        Fill(expected, id);
        return data.SequenceEqual(expected);
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
