using System.Collections.Concurrent;
using System.Globalization;
using System.Text;

namespace ZsCache.Sample.Web.Catalog;

/// <summary>
/// The sample's stand-in for a database: products, pages and reviews generated deterministically
/// from their ids (so any number of them costs no memory until cached), behind a small delay.
/// It counts its loads, so a caller (or a test) can see what the cache saved it.
/// </summary>
/// <remarks>
/// Sizes vary on purpose, from a few hundred bytes to several KiB of JSON, so that values land in
/// many of the pool's size classes; the text is drawn from a small vocabulary, so it compresses
/// about as well as real catalog JSON does.
/// </remarks>
public sealed class CatalogStore
{
    public const int PageSize = 24;

    private static readonly string[] Categories =
        ["Kitchen", "Garden", "Outdoor", "Tools", "Office", "Lighting", "Audio", "Bath", "Toys", "Storage", "Cycling", "Camping"];

    private static readonly string[] Adjectives =
        ["compact", "durable", "lightweight", "stainless", "foldable", "ergonomic", "wireless", "waterproof", "modular", "classic", "heavy-duty", "quiet", "rechargeable", "adjustable", "insulated", "recycled"];

    private static readonly string[] Nouns =
        ["kettle", "lamp", "drill", "backpack", "speaker", "shelf", "tent", "bottle", "chair", "cable", "pump", "helmet", "planter", "organiser", "blender", "torch", "stool", "rack"];

    private static readonly string[] Words =
        ["the", "a", "with", "and", "for", "every", "day", "use", "built", "from", "high", "quality", "materials", "designed", "to", "last",
         "easy", "clean", "store", "fits", "most", "homes", "comes", "in", "three", "colours", "includes", "two", "year", "warranty",
         "tested", "our", "lab", "customers", "love", "its", "simple", "design", "battery", "lasts", "up", "hours", "weighs", "only",
         "grams", "assembled", "minutes", "no", "tools", "needed", "safe", "children", "pets", "made", "Europe", "packaging", "is",
         "plastic", "free", "compatible", "all", "standard", "accessories", "sold", "separately", "care", "wipe", "damp", "cloth"];

    private readonly ConcurrentDictionary<int, decimal> _priceOverrides = new();
    private readonly TimeSpan _latency;
    private long _productLoads;
    private long _pageLoads;
    private long _reviewLoads;

    public CatalogStore(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        ProductCount = Math.Max(1, configuration.GetValue("Sample:Products", 20_000));
        _latency = TimeSpan.FromMilliseconds(Math.Max(0, configuration.GetValue("Sample:DatabaseLatencyMs", 3)));
    }

    /// <summary>Products have ids 1 to <see cref="ProductCount"/>.</summary>
    public int ProductCount { get; }

    public int PageCount => (ProductCount + PageSize - 1) / PageSize;

    /// <summary>Products read from the "database" (each one a cache miss of the catalog).</summary>
    public long ProductLoads => Interlocked.Read(ref _productLoads);

    public long PageLoads => Interlocked.Read(ref _pageLoads);

    /// <summary>Review lists read from the "database" (each one a HybridCache factory call).</summary>
    public long ReviewLoads => Interlocked.Read(ref _reviewLoads);

    public bool Exists(int id) => id >= 1 && id <= ProductCount;

    public async Task<Product> LoadProductAsync(int id, CancellationToken cancellationToken)
    {
        await SimulateLatencyAsync(cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _productLoads);
        return MakeProduct(id);
    }

    public async Task<ProductPage> LoadPageAsync(int page, CancellationToken cancellationToken)
    {
        await SimulateLatencyAsync(cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _pageLoads);
        var first = ((page - 1) * PageSize) + 1;
        var last = Math.Min(ProductCount, first + PageSize - 1);
        var items = new List<ProductSummary>(PageSize);
        for (var id = first; id <= last; id++)
        {
            var p = MakeProduct(id);
            items.Add(new ProductSummary(p.Id, p.Name, p.Category, p.Price));
        }

        return new ProductPage(page, PageSize, ProductCount, items);
    }

    public async Task<IReadOnlyList<Review>> LoadReviewsAsync(int id, CancellationToken cancellationToken)
    {
        await SimulateLatencyAsync(cancellationToken).ConfigureAwait(false);
        Interlocked.Increment(ref _reviewLoads);
        var random = new Random(HashCode.Combine(id, 7919));
        var reviews = new List<Review>();
        for (int i = 0, n = random.Next(1, 9); i < n; i++)
        {
            reviews.Add(new Review(
                Author: $"customer{random.Next(1, 100_000).ToString(CultureInfo.InvariantCulture)}",
                Rating: random.Next(1, 6),
                Title: Capitalise(Sentence(random, 3, 7)),
                Text: Paragraph(random, random.Next(1, 4)),
                Date: new DateOnly(2024, 1, 1).AddDays(random.Next(0, 600))));
        }

        return reviews;
    }

    /// <summary>Changes a product's price (the caller invalidates the cached copy).</summary>
    public void SetPrice(int id, decimal price) => _priceOverrides[id] = price;

    private Task SimulateLatencyAsync(CancellationToken cancellationToken) =>
        _latency > TimeSpan.Zero ? Task.Delay(_latency, cancellationToken) : Task.CompletedTask;

    private Product MakeProduct(int id)
    {
        var random = new Random(id);
        var adjective = Adjectives[random.Next(Adjectives.Length)];
        var noun = Nouns[random.Next(Nouns.Length)];
        var category = Categories[random.Next(Categories.Length)];
        var price = Math.Round((decimal)(random.NextDouble() * 300) + 2.99m, 2);
        if (_priceOverrides.TryGetValue(id, out var overridden))
        {
            price = overridden;
        }

        var tags = new List<string>();
        for (int i = 0, n = random.Next(1, 6); i < n; i++)
        {
            tags.Add(Words[random.Next(Words.Length)]);
        }

        // Roughly log-uniform paragraph counts: many small products, a tail of large ones.
        var paragraphs = (int)Math.Round(Math.Pow(2, random.NextDouble() * 5));
        var attributes = new List<ProductAttribute>();
        for (int i = 0, n = random.Next(2, 4 + paragraphs); i < n; i++)
        {
            attributes.Add(new ProductAttribute(
                Capitalise(Words[random.Next(Words.Length)]),
                $"{random.Next(1, 500).ToString(CultureInfo.InvariantCulture)} {Words[random.Next(Words.Length)]}"));
        }

        return new Product(
            Id: id,
            Sku: $"ZS-{id.ToString("D6", CultureInfo.InvariantCulture)}",
            Name: $"{Capitalise(adjective)} {noun} {id.ToString(CultureInfo.InvariantCulture)}",
            Category: category,
            Price: price,
            Stock: random.Next(0, 250),
            Tags: tags,
            Description: Paragraph(random, paragraphs),
            Attributes: attributes);
    }

    private static string Paragraph(Random random, int sentences)
    {
        var text = new StringBuilder();
        for (var i = 0; i < sentences * 4; i++)
        {
            text.Append(Capitalise(Sentence(random, 6, 16))).Append(". ");
        }

        return text.ToString().TrimEnd();
    }

    private static string Sentence(Random random, int min, int max)
    {
        var words = new string[random.Next(min, max)];
        for (var i = 0; i < words.Length; i++)
        {
            words[i] = Words[random.Next(Words.Length)];
        }

        return string.Join(' ', words);
    }

    private static string Capitalise(string s) => s.Length == 0 ? s : string.Concat(char.ToUpperInvariant(s[0]).ToString(), s.AsSpan(1));
}
