namespace ZsCache.Sample.Web.Load;

/// <summary>
/// Draws items 1..n with Zipf's law: item of rank k has weight 1/k^s. With s near 1, a few
/// hundred products take most of the traffic and a long tail is read now and then, the shape
/// that makes a cold tier worth having. Ranks are mapped to ids through a fixed shuffle so the
/// hot products are spread over the catalog.
/// </summary>
internal sealed class ZipfSampler
{
    private readonly double[] _cumulative;
    private readonly int[] _idOfRank;

    public ZipfSampler(int count, double exponent, int seed = 42)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(exponent);
        _cumulative = new double[count];
        var sum = 0.0;
        for (var rank = 1; rank <= count; rank++)
        {
            sum += 1.0 / Math.Pow(rank, exponent);
            _cumulative[rank - 1] = sum;
        }

        _idOfRank = new int[count];
        for (var i = 0; i < count; i++)
        {
            _idOfRank[i] = i + 1;
        }

        new Random(seed).Shuffle(_idOfRank);
    }

    public int Count => _cumulative.Length;

    /// <summary>An id from 1 to <see cref="Count"/>.</summary>
    public int Next(Random random)
    {
        var target = random.NextDouble() * _cumulative[^1];
        var index = Array.BinarySearch(_cumulative, target);
        if (index < 0)
        {
            index = ~index;
        }

        return _idOfRank[Math.Min(index, _idOfRank.Length - 1)];
    }
}
