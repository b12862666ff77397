using K4os.Compression.LZ4;
using ZsCache.Writeback;

namespace ZsCache.Compression;

/// <summary>
/// Encodes values for the pool and decodes them for readers. A value that LZ4 does not shrink
/// is kept raw, so the stored form is never larger than the value itself; the codec is recorded
/// with every value so a reader never guesses.
/// </summary>
internal static class ValueCodec
{
    /// <summary>Values this small rarely shrink and cost more to decode than they save.</summary>
    public const int MinCompressibleLength = 64;

    /// <summary>The room <see cref="Encode"/> needs in its destination for a value of <paramref name="length"/> bytes.</summary>
    public static int MaxEncodedLength(int length) => Math.Max(length, LZ4Codec.MaximumOutputSize(length));

    /// <summary>Encodes <paramref name="value"/> into <paramref name="destination"/>; returns the codec used and the bytes written.</summary>
    public static (ZsCodec Codec, int Length) Encode(ReadOnlySpan<byte> value, Span<byte> destination, ZsCompression compression)
    {
        if (compression == ZsCompression.Lz4 && value.Length >= MinCompressibleLength)
        {
            var written = LZ4Codec.Encode(value, destination, LZ4Level.L00_FAST);
            if (written > 0 && written < value.Length)
            {
                return (ZsCodec.Lz4, written);
            }
        }

        value.CopyTo(destination);
        return (ZsCodec.Raw, value.Length);
    }

    /// <summary>
    /// Decodes <paramref name="data"/> into exactly <paramref name="destination"/> (sized to the
    /// original length). Returns false when the bytes do not decode to that length.
    /// </summary>
    public static bool TryDecode(ZsCodec codec, ReadOnlySpan<byte> data, Span<byte> destination)
    {
        switch (codec)
        {
            case ZsCodec.Raw:
                if (data.Length != destination.Length)
                {
                    return false;
                }

                data.CopyTo(destination);
                return true;
            case ZsCodec.Lz4:
                return LZ4Codec.Decode(data, destination) == destination.Length;
            default:
                return false;
        }
    }
}
