using ZsCache.Benchmarks.Corpus;

namespace ZsCache.Benchmarks.Policy;

/// <summary>
/// A seeded request trace: the corpus index each request reads. Built once per workload and
/// replayed unchanged against every cache, so the caches see the very same requests.
/// </summary>
/// <remarks>
/// <para>The catalog is corpus entries 0..<c>keys</c>-1. Popularity rank r maps to catalog entry
/// <c>perm[r]</c> (a seeded shuffle), so a key's popularity says nothing about its size or kind.</para>
/// <list type="bullet">
/// <item><description><c>zipf-S</c>: every request samples a rank from Zipf(S).</description></item>
/// <item><description><c>scan</c>: Zipf(0.99), except that the last fifth of every 25,000 requests is a
/// burst reading never-seen entries in order (corpus entries from <c>keys</c> up): a report or a
/// crawler walking cold data through the cache, each key read once.</description></item>
/// <item><description><c>shift</c>: Zipf(0.99) whose hot set moves five times per trace: in phase p,
/// rank r maps to <c>perm[(r + p·keys/5) mod keys]</c>, so the keys hot in one phase are cold in
/// the next.</description></item>
/// </list>
/// </remarks>
public sealed class PolicyTrace
{
    /// <summary>The workloads a study runs when none are named.</summary>
    public const string DefaultWorkloads = "zipf-0.8,zipf-0.99,zipf-1.2,scan,shift";

    private const int ScanPeriod = 25_000;
    private const int ScanBurst = 5_000;
    private const int ShiftPhases = 5;

    private PolicyTrace(string name, string description, int[] requests, int keys, int distinct)
    {
        Name = name;
        Description = description;
        Requests = requests;
        CatalogKeys = keys;
        DistinctKeys = distinct;
    }

    public string Name { get; }

    public string Description { get; }

    /// <summary>Corpus index read by each request, in order.</summary>
    public int[] Requests { get; }

    public int CatalogKeys { get; }

    /// <summary>Distinct corpus entries the trace reads.</summary>
    public int DistinctKeys { get; }

    /// <summary>Largest corpus index the trace reads, plus one.</summary>
    public int IndexLimit => Requests.Length == 0 ? 0 : Requests.Max() + 1;

    public static PolicyTrace Create(string name, int keys, int length, ulong seed)
    {
        // One seed per workload name, so adding a workload does not change the others' traces.
        ulong workloadSeed = SplitMix64.Mix(seed ^ (ulong)(uint)StableHash(name));
        int[] perm = Permutation(keys, SplitMix64.Mix(workloadSeed ^ 0x9E37));
        var requests = new int[length];
        string description;
        if (name.StartsWith("zipf-", StringComparison.Ordinal))
        {
            double exponent = double.Parse(name["zipf-".Length..], System.Globalization.CultureInfo.InvariantCulture);
            var zipf = new ZipfSampler(keys, exponent, workloadSeed);
            for (int i = 0; i < length; i++)
            {
                requests[i] = perm[zipf.Next()];
            }

            description = $"Zipf({exponent}) over {keys:N0} keys";
        }
        else if (name == "scan")
        {
            var zipf = new ZipfSampler(keys, 0.99, workloadSeed);
            int cursor = keys;
            for (int i = 0; i < length; i++)
            {
                requests[i] = i % ScanPeriod >= ScanPeriod - ScanBurst ? cursor++ : perm[zipf.Next()];
            }

            description = $"Zipf(0.99) over {keys:N0} keys; the last {ScanBurst:N0} of every {ScanPeriod:N0} requests read never-seen keys in order ({cursor - keys:N0} in all)";
        }
        else if (name == "shift")
        {
            var zipf = new ZipfSampler(keys, 0.99, workloadSeed);
            int phaseLength = Math.Max(1, length / ShiftPhases);
            for (int i = 0; i < length; i++)
            {
                int phase = Math.Min(i / phaseLength, ShiftPhases - 1);
                requests[i] = perm[(zipf.Next() + (long)phase * keys / ShiftPhases) % keys];
            }

            description = $"Zipf(0.99) over {keys:N0} keys; the hot set moves to other keys every {phaseLength:N0} requests";
        }
        else
        {
            throw new ArgumentException($"unknown workload '{name}' (known: zipf-S for an exponent S, scan, shift)", nameof(name));
        }

        return new PolicyTrace(name, description, requests, keys, requests.Distinct().Count());
    }

    private static int[] Permutation(int n, ulong seed)
    {
        var perm = new int[n];
        for (int i = 0; i < n; i++)
        {
            perm[i] = i;
        }

        var random = new SplitMix64(seed);
        for (int i = n - 1; i > 0; i--)
        {
            int j = random.Next(i + 1);
            (perm[i], perm[j]) = (perm[j], perm[i]);
        }

        return perm;
    }

    /// <summary>FNV-1a: string.GetHashCode is randomised per process, and traces must not be.</summary>
    private static int StableHash(string text)
    {
        uint hash = 2166136261;
        foreach (char c in text)
        {
            hash = (hash ^ c) * 16777619;
        }

        return (int)hash;
    }
}
