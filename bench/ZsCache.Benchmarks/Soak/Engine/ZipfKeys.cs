namespace ZsCache.Soak;

/// <summary>
/// A Zipf-distributed key space: key <c>i</c> (0-based) is drawn with probability proportional
/// to <c>1 / (i + 1)^s</c>, by binary search over the precomputed cumulative distribution.
/// Key names carry a prefix per run so runs sharing a Redis never meet.
/// </summary>
internal sealed class ZipfKeys
{
    private readonly double[] _cumulative;
    private readonly string[] _names;

    public ZipfKeys(int count, double exponent, string prefix)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        _cumulative = new double[count];
        _names = new string[count];
        var sum = 0.0;
        for (var i = 0; i < count; i++)
        {
            sum += 1.0 / Math.Pow(i + 1, exponent);
            _cumulative[i] = sum;
            _names[i] = prefix + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        for (var i = 0; i < count; i++)
        {
            _cumulative[i] /= sum;
        }
    }

    public int Count => _names.Length;

    public string Name(int index) => _names[index];

    /// <summary>Draws a key index.</summary>
    public int Next(Random random)
    {
        var u = random.NextDouble();
        var index = Array.BinarySearch(_cumulative, u);
        index = index < 0 ? ~index : index;
        return Math.Min(index, _names.Length - 1);
    }
}
