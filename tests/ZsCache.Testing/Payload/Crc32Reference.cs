namespace ZsCache.Testing.Payload;

/// <summary>
/// CRC-32 (IEEE 802.3: reflected polynomial 0xEDB88320, initial and final value all ones) one
/// bit at a time, as docs/redis-format.md defines the checksum: an independent reading to hold
/// the encoder to, not the library's implementation.
/// </summary>
public static class Crc32Reference
{
    /// <summary>The CRC-32 of <paramref name="bytes"/>.</summary>
    public static uint Compute(ReadOnlySpan<byte> bytes)
    {
        var crc = uint.MaxValue;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
            }
        }

        return ~crc;
    }
}
