using System.Globalization;

namespace ZsCache.Benchmarks;

/// <summary>Minimal <c>--name value</c> parsing for the harness's own modes (BenchmarkDotNet parses the rest).</summary>
public sealed class HarnessArgs
{
    private readonly Dictionary<string, string> _values = new(StringComparer.OrdinalIgnoreCase);

    private HarnessArgs()
    {
    }

    /// <summary>Arguments that were not <c>--name value</c> pairs of <see cref="Names"/>, in order.</summary>
    public List<string> Rest { get; } = [];

    /// <summary>Options the harness itself understands; everything else is passed on.</summary>
    public static readonly string[] Names =
        ["caches", "entries", "seed", "zipf", "values", "pool-bytes", "repeats", "out", "cache", "gc-repeats", "timeout-min"];

    public static HarnessArgs Parse(IReadOnlyList<string> args)
    {
        var line = new HarnessArgs();
        for (int i = 0; i < args.Count; i++)
        {
            string a = args[i];
            if (a.StartsWith("--", StringComparison.Ordinal) && Names.Contains(a[2..], StringComparer.OrdinalIgnoreCase))
            {
                if (i + 1 >= args.Count)
                {
                    throw new ArgumentException($"option {a} needs a value");
                }

                line._values[a[2..]] = args[++i];
            }
            else
            {
                line.Rest.Add(a);
            }
        }

        return line;
    }

    public bool Has(string name) => _values.ContainsKey(name);

    public string GetString(string name, string fallback) => _values.TryGetValue(name, out var v) ? v : fallback;

    /// <summary>A plain integer; <c>_</c> and <c>,</c> separators allowed (1_000_000).</summary>
    public long GetInt64(string name, long fallback) =>
        _values.TryGetValue(name, out var v)
            ? long.Parse(v.Replace("_", "", StringComparison.Ordinal).Replace(",", "", StringComparison.Ordinal), CultureInfo.InvariantCulture)
            : fallback;

    /// <summary>A byte count with an optional K/M/G suffix (powers of 1024): 4G = 4 GiB.</summary>
    public long GetBytes(string name, long fallback) =>
        _values.TryGetValue(name, out var v) ? ParseSize(v) : fallback;

    public double GetDouble(string name, double fallback) =>
        _values.TryGetValue(name, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;

    public IReadOnlyList<string> GetList(string name, string fallback) =>
        GetString(name, fallback).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Plain integers, <c>1_000_000</c>, and K/M/G suffixes (powers of 1024): for byte counts only.</summary>
    public static long ParseSize(string text)
    {
        string t = text.Replace("_", "", StringComparison.Ordinal).Trim();
        long unit = 1;
        char last = char.ToUpperInvariant(t[^1]);
        if (last is 'K' or 'M' or 'G')
        {
            unit = last switch { 'K' => 1L << 10, 'M' => 1L << 20, _ => 1L << 30 };
            t = t[..^1];
        }

        return long.Parse(t, CultureInfo.InvariantCulture) * unit;
    }
}
