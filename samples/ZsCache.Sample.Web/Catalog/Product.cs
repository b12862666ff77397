namespace ZsCache.Sample.Web.Catalog;

/// <summary>A product as the catalog's API returns it.</summary>
public sealed record Product(
    int Id,
    string Sku,
    string Name,
    string Category,
    decimal Price,
    int Stock,
    IReadOnlyList<string> Tags,
    string Description,
    IReadOnlyList<ProductAttribute> Attributes);

/// <summary>One line of a product's specification table.</summary>
public sealed record ProductAttribute(string Name, string Value);

/// <summary>A product in a list page.</summary>
public sealed record ProductSummary(int Id, string Name, string Category, decimal Price);

/// <summary>A page of the catalog.</summary>
public sealed record ProductPage(int Page, int PageSize, int TotalProducts, IReadOnlyList<ProductSummary> Items);

/// <summary>A customer review (served through HybridCache).</summary>
public sealed record Review(string Author, int Rating, string Title, string Text, DateOnly Date);
