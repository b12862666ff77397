using K4os.Compression.LZ4;
using ZsCache.Benchmarks.Corpus;

namespace ZsCache.Benchmarks.Policy;

/// <summary>
/// The <see cref="JsonCorpus"/> entries a study reads, with their keys and value lengths computed
/// once (so hits can be checked and the catalog sized); values themselves are generated on
/// demand, as a database would return them, and never held.
/// </summary>
public sealed class StudyCorpus
{
    private readonly JsonCorpus _corpus;
    private readonly List<string> _keys = [];
    private readonly List<int> _lengths = [];
    private readonly List<int> _compressed = [];
    private readonly byte[] _lz4 = new byte[LZ4Codec.MaximumOutputSize(JsonCorpus.MaxValueBytes)];

    public StudyCorpus(ulong seed) => _corpus = new JsonCorpus(seed);

    public ulong Seed => _corpus.Seed;

    public string Key(int index) => _keys[index];

    public int Length(int index) => _lengths[index];

    public byte[] Value(int index) => _corpus.Value(index);

    /// <summary>Raw value bytes of entries 0..count-1.</summary>
    public long RawBytes(int count)
    {
        EnsureCount(count);
        long sum = 0;
        for (int i = 0; i < count; i++)
        {
            sum += _lengths[i];
        }

        return sum;
    }

    /// <summary>LZ4 (fast) bytes of entries 0..count-1: about what the pool holds of them, before keys and slot rounding.</summary>
    public long Lz4Bytes(int count)
    {
        EnsureCount(count);
        long sum = 0;
        for (int i = 0; i < count; i++)
        {
            sum += _compressed[i];
        }

        return sum;
    }

    /// <summary>The smallest count of leading entries whose values add up to at least <paramref name="bytes"/>.</summary>
    public int CountFor(long bytes)
    {
        long sum = 0;
        for (int i = 0; ; i++)
        {
            EnsureCount(i + 1);
            sum += _lengths[i];
            if (sum >= bytes)
            {
                return i + 1;
            }
        }
    }

    public void EnsureCount(int count)
    {
        for (int i = _keys.Count; i < count; i++)
        {
            _keys.Add(_corpus.Key(i));
            byte[] value = _corpus.Value(i);
            _lengths.Add(value.Length);
            _compressed.Add(Math.Min(value.Length, LZ4Codec.Encode(value, _lz4, LZ4Level.L00_FAST)));
        }
    }
}
