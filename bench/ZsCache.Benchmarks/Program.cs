using System.Globalization;
using BenchmarkDotNet.Running;
using ZsCache.Benchmarks;
using ZsCache.Benchmarks.Corpus;
using ZsCache.Benchmarks.Workload;

// Modes of one exe:
//   corpus [--entries N] [--seed S]                     describe the corpus (sizes, LZ4 ratio)
//   memory [--entries N] [--caches memory,zs] [--out F] fresh child process per cache: bytes/entry, entries/GiB, full GC pause
//   memory-child --cache NAME ...                        (internal: one cache of the memory workload)
//   pairs [--op get|tryget|set] [--caches baseline,zs]   interleaved, same-process ratios (robust on a loaded machine)
//   policy [--pool-bytes 32M] [--requests N] [--workloads ...] [--repeats R] [--out DIR]  writeback policies vs MemoryDistributedCache (Policy/)
//   faultin-pairs [--values small|medium] [--entries K] [--rounds R]  fault-in vs RedisCache Get, interleaved, with the steps between (Writeback/)
//   faultin-local [--values small|medium] [--entries K] [--rounds R]  ZsCache's own fault-in cost, in-memory tier (no network)
//   soak [--minutes N]                                   reliability load plus Redis faults (Soak/, docs/reliability.md)
//   anything else                                        BenchmarkDotNet (BenchmarkSwitcher), e.g. --filter '*CacheBenchmarks*'
//                                                        plus --caches, --entries, --zipf, --values, --pool-bytes (see BenchSettings)
string mode = args.Length > 0 ? args[0] : "";
switch (mode)
{
    case "corpus":
        return CorpusReport.Run(HarnessArgs.Parse(args[1..]));
    case "memory":
        return MemoryWorkload.Run(HarnessArgs.Parse(args[1..]));
    case "memory-child":
        return MemoryChild.Run(HarnessArgs.Parse(args[1..]));
    case "pairs":
        return PairedRatios.Run(HarnessArgs.Parse(args[1..]));
    case "faultin-pairs":
        return ZsCache.Benchmarks.Writeback.FaultInPairs.Run(HarnessArgs.Parse(args[1..]));
    case "faultin-local":
        return ZsCache.Benchmarks.Writeback.FaultInLocal.Run(HarnessArgs.Parse(args[1..]));
    case "soak":
        return ZsCache.Soak.SoakCommand.Run(args[1..]);
    case "policy":
        return ZsCache.Benchmarks.Policy.PolicyStudy.Run(HarnessArgs.Parse(args[1..]));
}

var line = HarnessArgs.Parse(args);
SetFromOption(line, "caches", BenchSettings.CachesVariable);
SetFromOption(line, "entries", BenchSettings.EntriesVariable);
SetFromOption(line, "zipf", BenchSettings.ZipfVariable);
SetFromOption(line, "values", BenchSettings.ValuesVariable);
SetFromOption(line, "pool-bytes", BenchSettings.PoolBytesVariable);
var rest = line.Rest;
if (!rest.Any(a => a is "--job" or "-j" or "--list"))
{
    // Two cores shared with other engineers: ShortRun (1 launch, 3 warmups, 3 iterations) unless
    // another job is named; --iterationCount and friends still override its characteristics.
    rest.AddRange(["--job", "short"]);
}

BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run([.. rest]);
return 0;

static void SetFromOption(HarnessArgs line, string option, string variable)
{
    if (line.Has(option))
    {
        // Environment, not statics: BenchmarkDotNet runs each case in a child process that inherits it.
        string value = option switch
        {
            "pool-bytes" => line.GetBytes(option, 0).ToString(CultureInfo.InvariantCulture),
            "entries" => line.GetInt64(option, 0).ToString(CultureInfo.InvariantCulture),
            _ => line.GetString(option, ""),
        };
        Environment.SetEnvironmentVariable(variable, value);
    }
}
