using System.Globalization;
using K4os.Compression.LZ4;

namespace ZsCache.Benchmarks.Corpus;

/// <summary>
/// <c>corpus</c> mode: describes the corpus the benchmarks use (sizes, kinds, LZ4 ratio), so that
/// docs/benchmarks.md can say what the figures were measured on.
/// </summary>
public static class CorpusReport
{
    public static int Run(HarnessArgs options)
    {
        long count = options.GetInt64("entries", 100_000);
        ulong seed = (ulong)options.GetInt64("seed", (long)JsonCorpus.DefaultSeed);
        var corpus = new JsonCorpus(seed);
        var sizes = new int[count];
        var ratios = new double[count];
        long raw = 0, compressed = 0, keyChars = 0;
        var rawByKind = new long[3];
        var compressedByKind = new long[3];
        var countByKind = new long[3];
        byte[] target = new byte[LZ4Codec.MaximumOutputSize(JsonCorpus.MaxValueBytes)];
        using var fingerprint = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        for (long i = 0; i < count; i++)
        {
            byte[] value = corpus.Value(i);
            int encoded = LZ4Codec.Encode(value, target, LZ4Level.L00_FAST);
            var kind = (int)corpus.KindOf(i);
            sizes[i] = value.Length;
            ratios[i] = (double)value.Length / encoded;
            raw += value.Length;
            compressed += encoded;
            rawByKind[kind] += value.Length;
            compressedByKind[kind] += encoded;
            countByKind[kind]++;
            string key = corpus.Key(i);
            keyChars += key.Length;
            fingerprint.AppendData(System.Text.Encoding.UTF8.GetBytes(key));
            fingerprint.AppendData(value);
        }

        Array.Sort(sizes);
        Array.Sort(ratios);
        var inv = CultureInfo.InvariantCulture;
        // The fingerprint pins the bytes: a figure measured on another fingerprint is on another corpus.
        Console.WriteLine(string.Create(inv, $"corpus seed={seed} entries={count} sha256(keys+values)={Convert.ToHexStringLower(fingerprint.GetHashAndReset())[..16]}"));
        Console.WriteLine(string.Create(inv, $"value bytes: mean {raw / (double)count:F0}, p10 {Pct(sizes, 0.10)}, p50 {Pct(sizes, 0.50)}, p90 {Pct(sizes, 0.90)}, p99 {Pct(sizes, 0.99)}, min {sizes[0]}, max {sizes[^1]}"));
        Console.WriteLine(string.Create(inv, $"share 200 B–8 KB: {Share(sizes, 200, 8192):P1}; below 200 B: {Share(sizes, 0, 199):P1}; above 8 KB: {Share(sizes, 8193, int.MaxValue):P1}; above 32 KB: {Share(sizes, 32769, int.MaxValue):P2}"));
        Console.WriteLine(string.Create(inv, $"key chars: mean {keyChars / (double)count:F1}"));
        Console.WriteLine(string.Create(inv, $"LZ4 L00_FAST ratio (sum raw / sum compressed): {raw / (double)compressed:F3}; per-value ratio p10 {Pct(ratios, 0.10):F2}, p50 {Pct(ratios, 0.50):F2}, p90 {Pct(ratios, 0.90):F2}"));
        foreach (DocumentKind kind in Enum.GetValues<DocumentKind>())
        {
            int k = (int)kind;
            Console.WriteLine(string.Create(inv, $"  {kind,-12} {countByKind[k] / (double)count,6:P1} of entries, mean {rawByKind[k] / (double)Math.Max(1, countByKind[k]),7:F0} B, LZ4 ratio {rawByKind[k] / (double)Math.Max(1, compressedByKind[k]):F3}"));
        }

        return 0;
    }

    private static T Pct<T>(T[] sorted, double p) => sorted[(int)Math.Min(sorted.Length - 1, p * sorted.Length)];

    private static double Share(int[] sorted, int min, int max) =>
        sorted.Count(s => s >= min && s <= max) / (double)sorted.Length;
}
