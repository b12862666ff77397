using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace ZsCache.Benchmarks.Corpus;

/// <summary>The shapes of document the corpus makes, in the proportions a shop's cache might hold.</summary>
public enum DocumentKind
{
    /// <summary>A product detail document: attributes, variants, reviews.</summary>
    Product,

    /// <summary>A catalog/listing page: a page of product summaries and facets.</summary>
    CatalogPage,

    /// <summary>A user session: claims, cart, recently viewed, random tokens.</summary>
    UserSession,
}

/// <summary>
/// A deterministic, seeded generator of realistic JSON cache values and their keys.
/// </summary>
/// <remarks>
/// <para>Entry <c>i</c> is a pure function of (seed, i): <see cref="Key"/> and <see cref="Value"/>
/// can be called in any order, from any process, and give the same bytes. Nothing is held, so a
/// workload can stream a million entries through a cache without the corpus itself taking memory.</para>
/// <para>Sizes: a target size is drawn from a log-normal (median ≈ 1.4 KB, σ = 1), clamped to
/// [<see cref="MinValueBytes"/>, <see cref="MaxValueBytes"/>]; the document grows element by element
/// until it reaches the target. So most values fall in 200 B–8 KB with a tail to 64 KB.</para>
/// <para>Compressibility: field names and enumerations repeat (as in real JSON), free text is drawn
/// from a vocabulary of pseudo-words, and ids, prices, timestamps and tokens are random. LZ4 on the
/// result lands around 1.5–2× (see <c>corpus</c> mode and docs/benchmarks.md for the measured figure).</para>
/// </remarks>
public sealed class JsonCorpus
{
    public const int MinValueBytes = 120;
    public const int MaxValueBytes = 64 * 1024;

    /// <summary>The seed used by every figure in docs/benchmarks.md.</summary>
    public const ulong DefaultSeed = 20240601;

    private const double MedianBytes = 1400;
    private const double Sigma = 1.0;

    private static readonly string[] Syllables =
    [
        "ka", "lo", "mi", "ra", "ten", "vos", "dur", "el", "an", "sir", "po", "qua", "zen", "bel", "tor",
        "ni", "fa", "gu", "ix", "om", "pre", "sta", "lun", "cor", "vi", "de", "mar", "tis", "ol", "ber",
    ];

    private static readonly string[] Colors = ["black", "white", "red", "navy", "olive", "grey", "sand", "teal", "burgundy", "ivory"];
    private static readonly string[] Sizes = ["XS", "S", "M", "L", "XL", "XXL"];
    private static readonly string[] Currencies = ["EUR", "USD", "GBP", "CHF"];
    private static readonly string[] Roles = ["customer", "premium", "beta", "staff", "support", "wholesale"];
    private static readonly string[] Locales = ["en-GB", "en-US", "de-DE", "fr-FR", "nl-NL", "es-ES", "it-IT"];
    private static readonly string[] Warehouses = ["ams-1", "fra-2", "lon-1", "par-3", "mad-1"];

    private static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Indented = false,
        SkipValidation = true,
    };

    private readonly string[] _words;
    private readonly string[] _brands;
    private readonly string[] _categories;
    private readonly string[] _names;

    public JsonCorpus(ulong seed = DefaultSeed)
    {
        Seed = seed;
        var random = new SplitMix64(seed ^ 0x5EED_C0DE);
        _words = MakeWords(ref random, 2000, 1, 4);
        _brands = MakeWords(ref random, 120, 2, 3);
        _categories = MakeWords(ref random, 60, 2, 4);
        _names = MakeWords(ref random, 400, 2, 3);
    }

    public ulong Seed { get; }

    /// <summary>The kind of entry <paramref name="index"/>: 40 % products, 25 % catalog pages, 35 % sessions.</summary>
    public DocumentKind KindOf(long index)
    {
        ulong r = SplitMix64.Mix(Seed ^ SplitMix64.Mix((ulong)index) ^ 0xA5A5) % 100;
        return r < 40 ? DocumentKind.Product : r < 65 ? DocumentKind.CatalogPage : DocumentKind.UserSession;
    }

    /// <summary>The key of entry <paramref name="index"/>; distinct indices give distinct keys.</summary>
    public string Key(long index)
    {
        ulong h = SplitMix64.Mix(Seed + (ulong)index);
        return KindOf(index) switch
        {
            DocumentKind.Product => $"product:{index + 100_000}:detail",
            DocumentKind.CatalogPage => $"catalog:{_categories[(int)(h % (ulong)_categories.Length)]}:page:{index}",
            _ => $"session:{SplitMix64.Mix((ulong)index ^ Seed):x16}",
        };
    }

    /// <summary>The target size of entry <paramref name="index"/> before it is generated.</summary>
    public int TargetSize(long index)
    {
        var random = EntryRandom(index, 1);
        double size = MedianBytes * Math.Exp(Sigma * random.NextGaussian());
        return (int)Math.Clamp(size, MinValueBytes, MaxValueBytes);
    }

    /// <summary>The UTF-8 JSON value of entry <paramref name="index"/>, as a fresh array.</summary>
    public byte[] Value(long index)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        WriteValue(index, buffer);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Writes the value of entry <paramref name="index"/> into <paramref name="destination"/>.</summary>
    public void WriteValue(long index, IBufferWriter<byte> destination)
    {
        int target = TargetSize(index);
        var random = EntryRandom(index, 2);
        using var writer = new Utf8JsonWriter(destination, WriterOptions);
        switch (KindOf(index))
        {
            case DocumentKind.Product:
                WriteProduct(writer, ref random, index, target);
                break;
            case DocumentKind.CatalogPage:
                WriteCatalogPage(writer, ref random, index, target);
                break;
            default:
                WriteSession(writer, ref random, index, target);
                break;
        }

        writer.Flush();
    }

    private SplitMix64 EntryRandom(long index, ulong stream) =>
        new(SplitMix64.Mix(Seed ^ SplitMix64.Mix((ulong)index * 4 + stream)));

    private static long Size(Utf8JsonWriter writer) => writer.BytesCommitted + writer.BytesPending;

    /// <summary>Room left before the hard cap, keeping a margin for the element being written and the closing brackets.</summary>
    private static bool HasRoom(Utf8JsonWriter writer, int target, int margin) =>
        Size(writer) < target && Size(writer) + margin < MaxValueBytes;

    private void WriteProduct(Utf8JsonWriter w, ref SplitMix64 r, long index, int target)
    {
        w.WriteStartObject();
        w.WriteNumber("id", index + 100_000);
        w.WriteString("sku", $"SKU-{r.Next(100000, 999999)}-{Pick(ref r, Colors)[..2].ToUpperInvariant()}");
        w.WriteString("name", Sentence(ref r, 2, 5));
        w.WriteString("brand", Pick(ref r, _brands));
        w.WriteStartArray("categories");
        for (int i = r.Next(1, 4); i > 0; i--)
        {
            w.WriteStringValue(Pick(ref r, _categories));
        }

        w.WriteEndArray();
        WritePrice(w, ref r);
        w.WriteString("description", Sentence(ref r, 8, Math.Clamp(target / 40, 10, 120)));
        w.WriteBoolean("inStock", r.Chance(0.8));
        w.WriteNumber("rating", Math.Round(1 + r.NextDouble() * 4, 2));
        w.WriteString("updatedAt", Timestamp(ref r));
        w.WriteStartArray("images");
        for (int i = r.Next(1, 5); i > 0; i--)
        {
            w.WriteStringValue($"https://cdn.example.com/img/{r.NextUInt64():x16}/{r.Next(1, 9)}.webp");
        }

        w.WriteEndArray();
        w.WriteStartArray("variants");
        for (int i = r.Next(1, 6); i > 0 && HasRoom(w, target, 600); i--)
        {
            w.WriteStartObject();
            w.WriteString("sku", $"V-{r.Next(1000000, 9999999)}");
            w.WriteString("color", Pick(ref r, Colors));
            w.WriteString("size", Pick(ref r, Sizes));
            w.WriteNumber("stock", r.Next(0, 500));
            w.WriteString("warehouse", Pick(ref r, Warehouses));
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("reviews");
        while (HasRoom(w, target, 1200))
        {
            w.WriteStartObject();
            w.WriteNumber("id", r.Next(1, int.MaxValue));
            w.WriteString("author", $"{Pick(ref r, _names)} {Pick(ref r, _names)[..1].ToUpperInvariant()}.");
            w.WriteNumber("stars", r.Next(1, 6));
            w.WriteString("title", Sentence(ref r, 2, 6));
            w.WriteString("body", Sentence(ref r, 10, 60));
            w.WriteString("createdAt", Timestamp(ref r));
            w.WriteNumber("helpful", r.Next(0, 300));
            w.WriteBoolean("verifiedPurchase", r.Chance(0.7));
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private void WriteCatalogPage(Utf8JsonWriter w, ref SplitMix64 r, long index, int target)
    {
        w.WriteStartObject();
        w.WriteString("category", Pick(ref r, _categories));
        w.WriteNumber("page", index % 50 + 1);
        w.WriteNumber("pageSize", 48);
        w.WriteNumber("total", r.Next(50, 20000));
        w.WriteString("sort", r.Chance(0.5) ? "relevance" : "price-asc");
        w.WriteString("generatedAt", Timestamp(ref r));
        w.WriteStartArray("facets");
        for (int i = r.Next(2, 5); i > 0; i--)
        {
            w.WriteStartObject();
            w.WriteString("name", Pick(ref r, _words));
            w.WriteStartArray("values");
            for (int j = r.Next(2, 6); j > 0; j--)
            {
                w.WriteStartObject();
                w.WriteString("value", Pick(ref r, _words));
                w.WriteNumber("count", r.Next(1, 900));
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartArray("items");
        while (HasRoom(w, target, 700))
        {
            w.WriteStartObject();
            w.WriteNumber("id", r.Next(100_000, 2_000_000));
            w.WriteString("name", Sentence(ref r, 2, 5));
            w.WriteString("brand", Pick(ref r, _brands));
            WritePrice(w, ref r);
            w.WriteString("thumbnail", $"https://cdn.example.com/img/{r.NextUInt64():x16}/t.webp");
            w.WriteNumber("rating", Math.Round(1 + r.NextDouble() * 4, 1));
            w.WriteNumber("reviewCount", r.Next(0, 5000));
            w.WriteBoolean("inStock", r.Chance(0.85));
            if (r.Chance(0.3))
            {
                w.WriteString("badge", r.Chance(0.5) ? "new" : "sale");
            }

            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private void WriteSession(Utf8JsonWriter w, ref SplitMix64 r, long index, int target)
    {
        w.WriteStartObject();
        w.WriteString("sessionId", Token(ref r, 32));
        w.WriteNumber("userId", r.Next(1, 50_000_000));
        w.WriteString("email", $"{Pick(ref r, _names)}.{Pick(ref r, _names)}{r.Next(1, 999)}@mail.example.com");
        w.WriteString("createdAt", Timestamp(ref r));
        w.WriteString("expiresAt", Timestamp(ref r));
        w.WriteString("locale", Pick(ref r, Locales));
        w.WriteString("currency", Pick(ref r, Currencies));
        w.WriteString("csrfToken", Token(ref r, 24));
        w.WriteStartArray("roles");
        for (int i = r.Next(1, 3); i > 0; i--)
        {
            w.WriteStringValue(Pick(ref r, Roles));
        }

        w.WriteEndArray();
        w.WriteStartObject("claims");
        w.WriteString("sub", $"user-{index}");
        w.WriteString("iss", "https://id.example.com");
        w.WriteNumber("iat", 1_700_000_000 + r.Next(0, 40_000_000));
        w.WriteString("amr", r.Chance(0.3) ? "mfa" : "pwd");
        w.WriteEndObject();
        w.WriteStartObject("cart");
        w.WriteString("id", Token(ref r, 12));
        w.WriteStartArray("items");
        int lines = 0;
        while (HasRoom(w, target, 500) && lines < 40)
        {
            lines++;
            w.WriteStartObject();
            w.WriteNumber("productId", r.Next(100_000, 2_000_000));
            w.WriteString("sku", $"V-{r.Next(1000000, 9999999)}");
            w.WriteString("name", Sentence(ref r, 2, 4));
            w.WriteNumber("quantity", r.Next(1, 5));
            w.WriteNumber("unitPrice", Math.Round(r.NextDouble() * 300, 2));
            w.WriteString("addedAt", Timestamp(ref r));
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
        w.WriteStartArray("recentlyViewed");
        while (HasRoom(w, target, 200))
        {
            w.WriteStartObject();
            w.WriteNumber("productId", r.Next(100_000, 2_000_000));
            w.WriteString("at", Timestamp(ref r));
            w.WriteString("from", r.Chance(0.5) ? "search" : "category");
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteEndObject();
    }

    private static void WritePrice(Utf8JsonWriter w, ref SplitMix64 r)
    {
        w.WriteStartObject("price");
        double amount = Math.Round(1 + r.NextDouble() * 500, 2);
        w.WriteNumber("amount", amount);
        w.WriteString("currency", Pick(ref r, Currencies));
        if (r.Chance(0.25))
        {
            w.WriteNumber("was", Math.Round(amount * (1.1 + r.NextDouble()), 2));
        }

        w.WriteEndObject();
    }

    private static string Timestamp(ref SplitMix64 r) =>
        new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(r.Next(0, 60_000_000)).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

    private static string Token(ref SplitMix64 r, int bytes)
    {
        Span<byte> raw = stackalloc byte[bytes];
        for (int i = 0; i < bytes; i++)
        {
            raw[i] = (byte)r.NextUInt64();
        }

        return Convert.ToBase64String(raw).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    private string Sentence(ref SplitMix64 r, int minWords, int maxWords)
    {
        int count = r.Next(minWords, maxWords + 1);
        var parts = new string[count];
        for (int i = 0; i < count; i++)
        {
            parts[i] = Pick(ref r, _words);
        }

        return string.Join(' ', parts);
    }

    private static string Pick(ref SplitMix64 r, string[] from) => from[r.Next(from.Length)];

    private static string[] MakeWords(ref SplitMix64 r, int count, int minSyllables, int maxSyllables)
    {
        var words = new HashSet<string>(StringComparer.Ordinal);
        while (words.Count < count)
        {
            int syllables = r.Next(minSyllables, maxSyllables + 1);
            var word = new System.Text.StringBuilder();
            for (int i = 0; i < syllables; i++)
            {
                word.Append(Syllables[r.Next(Syllables.Length)]);
            }

            words.Add(word.ToString());
        }

        return [.. words.Order(StringComparer.Ordinal)];
    }
}
