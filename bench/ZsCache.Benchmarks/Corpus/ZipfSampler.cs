namespace ZsCache.Benchmarks.Corpus;

/// <summary>
/// Samples ranks 0..n-1 with P(rank k) ∝ 1 / (k + 1)^exponent. Rank 0 is the hottest key.
/// Exponent 0 is uniform; web-cache traces usually fit 0.6–1.0.
/// Deterministic for a given seed; sampling is a binary search over the precomputed CDF.
/// </summary>
public sealed class ZipfSampler
{
    private readonly double[] _cdf;
    private SplitMix64 _random;

    public ZipfSampler(int n, double exponent, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(exponent);
        Exponent = exponent;
        _cdf = new double[n];
        double sum = 0;
        for (int k = 0; k < n; k++)
        {
            sum += 1.0 / Math.Pow(k + 1, exponent);
            _cdf[k] = sum;
        }

        for (int k = 0; k < n; k++)
        {
            _cdf[k] /= sum;
        }

        _cdf[n - 1] = 1.0;
        _random = new SplitMix64(seed);
    }

    public int Count => _cdf.Length;

    public double Exponent { get; }

    /// <summary>Probability of the given rank.</summary>
    public double Probability(int rank) => rank == 0 ? _cdf[0] : _cdf[rank] - _cdf[rank - 1];

    public int Next()
    {
        double u = _random.NextDouble();
        int index = Array.BinarySearch(_cdf, u);
        // BinarySearch returns the complement of the first element larger than u when u is not found.
        return index >= 0 ? index : Math.Min(~index, _cdf.Length - 1);
    }

    /// <summary>A fixed sequence of <paramref name="length"/> sampled ranks, to replay inside a benchmark loop.</summary>
    public int[] Sequence(int length)
    {
        var sequence = new int[length];
        for (int i = 0; i < length; i++)
        {
            sequence[i] = Next();
        }

        return sequence;
    }
}
