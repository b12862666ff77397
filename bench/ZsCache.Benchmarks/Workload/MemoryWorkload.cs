using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text;
using System.Text.Json;

namespace ZsCache.Benchmarks.Workload;

/// <summary>
/// <c>memory</c> mode: runs <see cref="MemoryChild"/> once per cache, each in a fresh process so
/// that no cache's heap, pool or GC history pollutes another's, then prints the figures side by
/// side with the targets as ratios (ZsCache against MemoryDistributedCache).
/// </summary>
public static class MemoryWorkload
{
    /// <summary>ZsCache must hold at least this many times MemoryDistributedCache's entries per GiB.</summary>
    public const double EntriesPerGiBTarget = 1.6;

    /// <summary>ZsCache's full blocking gen2 GC must take at most this fraction of MemoryDistributedCache's.</summary>
    public const double GcPauseTarget = 0.1;

    public static int Run(HarnessArgs options)
    {
        var caches = options.GetList("caches", "memory,zs");
        long entries = options.GetInt64("entries", 1_000_000);
        long poolBytes = options.GetBytes("pool-bytes", 4L << 30);
        int gcRepeats = (int)options.GetInt64("gc-repeats", 5);
        long seed = options.GetInt64("seed", (long)Corpus.JsonCorpus.DefaultSeed);
        var timeout = TimeSpan.FromMinutes(options.GetDouble("timeout-min", 30));
        string? outPath = options.Has("out") ? options.GetString("out", "") : null;

        Console.WriteLine($"memory workload: entries={entries:N0} caches={string.Join(",", caches)} zs MaxPoolBytes={poolBytes:N0} gc repeats={gcRepeats} seed={seed}");
        var results = new List<MemoryResult>();
        foreach (string cache in caches)
        {
            results.Add(RunChild(cache, entries, poolBytes, gcRepeats, seed, timeout));
        }

        string report = Format(results, entries);
        Console.WriteLine();
        Console.WriteLine(report);
        if (outPath is not null)
        {
            File.WriteAllText(outPath, report + Environment.NewLine + "```json" + Environment.NewLine
                + JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }) + Environment.NewLine + "```" + Environment.NewLine);
            Console.WriteLine($"written to {outPath}");
        }

        return 0;
    }

    private static MemoryResult RunChild(string cache, long entries, long poolBytes, int gcRepeats, long seed, TimeSpan timeout)
    {
        var start = SelfStartInfo();
        foreach (string arg in new[]
        {
            "memory-child", "--cache", cache, "--entries", entries.ToString(CultureInfo.InvariantCulture),
            "--pool-bytes", poolBytes.ToString(CultureInfo.InvariantCulture), "--gc-repeats", gcRepeats.ToString(CultureInfo.InvariantCulture),
            "--seed", seed.ToString(CultureInfo.InvariantCulture),
        })
        {
            start.ArgumentList.Add(arg);
        }

        start.RedirectStandardOutput = true;
        start.UseShellExecute = false;
        Console.WriteLine($"-- {cache}: child process {start.FileName} {string.Join(' ', start.ArgumentList)}");
        using var child = Process.Start(start)!;
        MemoryResult? result = null;
        child.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            if (e.Data.StartsWith(MemoryChild.ResultPrefix, StringComparison.Ordinal))
            {
                result = JsonSerializer.Deserialize<MemoryResult>(e.Data[MemoryChild.ResultPrefix.Length..]);
            }
            else
            {
                Console.WriteLine(e.Data);
            }
        };
        child.BeginOutputReadLine();
        if (!child.WaitForExit(timeout))
        {
            child.Kill();
            child.WaitForExit();
            return new MemoryResult { Cache = cache, Available = false, Reason = $"timed out after {timeout.TotalMinutes} min", Entries = entries };
        }

        child.WaitForExit();
        return result ?? new MemoryResult { Cache = cache, Available = false, Reason = $"child exited {child.ExitCode} without a result", Entries = entries };
    }

    /// <summary>Starts this same program again, whether it runs as an apphost or under <c>dotnet</c>.</summary>
    private static ProcessStartInfo SelfStartInfo()
    {
        string processPath = Environment.ProcessPath ?? throw new InvalidOperationException("no process path");
        var start = new ProcessStartInfo(processPath);
        if (Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase))
        {
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }

        return start;
    }

    private static string Format(List<MemoryResult> results, long entries)
    {
        var inv = CultureInfo.InvariantCulture;
        var s = new StringBuilder();
        s.AppendLine(inv, $"### Memory workload: {entries:N0} entries");
        s.AppendLine();
        s.AppendLine("| cache | resident | raw value B/entry | RssAnon Δ B/entry | entries/GiB (RssAnon) | GC heap Δ B/entry | pool B/entry | accounted B/entry | entries/GiB (accounted) | peak RSS MiB | full gen2 GC median ms (min–max) | its CPU ms median | fill s | load avg |");
        s.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            if (!r.Available)
            {
                s.AppendLine(inv, $"| {r.Cache} | not available: {r.Reason} | | | | | | | | | | | | |");
                continue;
            }

            string pool = r.PoolBytes >= 0 ? (r.PoolBytes / (double)r.Entries).ToString("F0", inv) : "n/a";
            s.AppendLine(inv,
                $"| {r.Cache} | {r.EntriesResident:N0} | {r.RawValueBytes / (double)r.Entries:F0} | {r.BytesPerEntryRss:F0} | {MemoryResult.PerGiB(r.BytesPerEntryRss):N0} | {r.GcTotalMemoryDelta / (double)r.Entries:F0} | {pool} | {r.BytesPerEntryAccounted:F0} | {MemoryResult.PerGiB(r.BytesPerEntryAccounted):N0} | {r.VmHwm / 1048576.0:F0} | {MemoryResult.Median(r.Gen2PauseMs):F1} ({r.Gen2PauseMs.DefaultIfEmpty().Min():F1}–{r.Gen2PauseMs.DefaultIfEmpty().Max():F1}) | {MemoryResult.Median(r.Gen2CpuMs):F1} | {r.FillSeconds:F1} | {r.LoadAverage?.Split(' ')[0]} |");
        }

        var memory = results.FirstOrDefault(r => r.Cache == "memory" && r.Available);
        var zs = results.FirstOrDefault(r => r.Cache == "zs" && r.Available);
        s.AppendLine();
        s.AppendLine("RssAnon Δ: private anonymous resident memory the fill added to the process (for redis: plus its redis-server's); accounted: GC.GetTotalMemory(true) Δ plus pool bytes not on the GC heap (plus redis-server's RssAnon Δ).");
        s.AppendLine();
        if (memory is null || zs is null)
        {
            s.AppendLine("Ratios: need both 'memory' and 'zs' available; ZsCache figures pending.");
            return s.ToString();
        }

        double densityRss = MemoryResult.PerGiB(zs.BytesPerEntryRss) / MemoryResult.PerGiB(memory.BytesPerEntryRss);
        double densityAccounted = MemoryResult.PerGiB(zs.BytesPerEntryAccounted) / MemoryResult.PerGiB(memory.BytesPerEntryAccounted);
        double pause = MemoryResult.Median(zs.Gen2PauseMs) / MemoryResult.Median(memory.Gen2PauseMs);
        s.AppendLine(inv, $"Ratios (zs / memory), targets in brackets:");
        s.AppendLine(inv, $"- entries per GiB, RssAnon basis: {densityRss:F2}× [≥ {EntriesPerGiBTarget}×] {(densityRss >= EntriesPerGiBTarget ? "MET" : "MISSED")}");
        s.AppendLine(inv, $"- entries per GiB, accounted basis: {densityAccounted:F2}× [≥ {EntriesPerGiBTarget}×] {(densityAccounted >= EntriesPerGiBTarget ? "MET" : "MISSED")}");
        s.AppendLine(inv, $"- full blocking gen2 GC pause (wall clock): {pause:F3} of memory's [≤ {GcPauseTarget}] {(pause <= GcPauseTarget ? "MET" : "MISSED")}");
        double cpu = MemoryResult.Median(zs.Gen2CpuMs) / MemoryResult.Median(memory.Gen2CpuMs);
        s.AppendLine(inv, $"- full blocking gen2 GC, CPU time of the collecting thread: {cpu:F3} of memory's [≤ {GcPauseTarget}] {(cpu <= GcPauseTarget ? "MET" : "MISSED")}");
        if (zs.EntriesResident != zs.Entries || memory.EntriesResident != memory.Entries)
        {
            s.AppendLine("- WARNING: not every entry was resident after the fill; per-entry figures divide by entries stored, not resident.");
        }

        return s.ToString();
    }
}
