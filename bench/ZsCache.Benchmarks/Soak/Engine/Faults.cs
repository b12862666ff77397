using System.Diagnostics;
using System.Globalization;

namespace ZsCache.Soak;

/// <summary>Steers a redis-server process: the test fixture in tests, the soak's own server in bench.</summary>
internal interface IRedisControl
{
    /// <summary>Kills the process and waits for it to exit.</summary>
    Task KillAsync();

    /// <summary>Starts it again on the same port and waits (bounded) until it answers.</summary>
    Task StartAsync();

    /// <summary>Runs one command on a fresh connection; an error reply throws.</summary>
    Task<string?> ExecuteAsync(params string[] args);
}

/// <summary>The faults a run can inject.</summary>
internal enum FaultKind
{
    /// <summary>Kill redis-server, keep it down, start it again (empty: no persistence).</summary>
    KillRestart,

    /// <summary><c>CLIENT PAUSE</c>: the server holds every client's commands.</summary>
    ClientPause,

    /// <summary><c>DEBUG SLEEP</c>: the server stops answering anyone.</summary>
    DebugSleep,

    /// <summary><c>CONFIG SET maxmemory</c> tiny with <c>noeviction</c>: every write is refused (OOM).</summary>
    Full,

    /// <summary><c>CLIENT KILL TYPE normal</c>: every client connection dropped.</summary>
    ConnectionDrop,
}

/// <summary>
/// A schedule of faults: <see cref="Cycles"/> times, inject <see cref="Kind"/>, hold it for
/// <see cref="Hold"/>, lift it, and let the system run normally for <see cref="Gap"/>.
/// </summary>
internal sealed record FaultPlan(FaultKind Kind, int Cycles, TimeSpan Hold, TimeSpan Gap);

/// <summary>Runs fault plans against a server. The delays are the fault's schedule, not synchronisation.</summary>
internal sealed class FaultInjector(IRedisControl redis)
{
    private readonly List<string> _events = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    /// <summary>What was done when, for the report.</summary>
    public IReadOnlyList<string> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    private readonly Dictionary<FaultKind, int> _byKind = [];

    /// <summary>Faults injected so far.</summary>
    public int Injected
    {
        get
        {
            lock (_byKind)
            {
                return _byKind.Values.Sum();
            }
        }
    }

    /// <summary>Faults injected so far, by kind.</summary>
    public IReadOnlyDictionary<FaultKind, int> ByKind
    {
        get
        {
            lock (_byKind)
            {
                return new Dictionary<FaultKind, int>(_byKind);
            }
        }
    }

    public async Task RunAsync(FaultPlan plan, CancellationToken cancellationToken)
    {
        for (var cycle = 0; cycle < plan.Cycles && !cancellationToken.IsCancellationRequested; cycle++)
        {
            await InjectAsync(plan.Kind, plan.Hold).ConfigureAwait(false);
            try
            {
                await Task.Delay(plan.Gap, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    /// <summary>Injects one fault, holds it, and lifts it (always, even when the hold is cut short).</summary>
    public async Task InjectAsync(FaultKind kind, TimeSpan hold)
    {
        lock (_byKind)
        {
            _byKind[kind] = _byKind.GetValueOrDefault(kind) + 1;
        }

        var ms = ((long)hold.TotalMilliseconds).ToString(CultureInfo.InvariantCulture);
        switch (kind)
        {
            case FaultKind.KillRestart:
                Note("kill");
                await redis.KillAsync().ConfigureAwait(false);
                try
                {
                    await Task.Delay(hold).ConfigureAwait(false);
                }
                finally
                {
                    await redis.StartAsync().ConfigureAwait(false);
                    Note("started");
                }

                break;
            case FaultKind.ClientPause:
                Note($"CLIENT PAUSE {ms}");
                await redis.ExecuteAsync("CLIENT", "PAUSE", ms).ConfigureAwait(false);
                await Task.Delay(hold).ConfigureAwait(false);
                break;
            case FaultKind.DebugSleep:
                Note($"DEBUG SLEEP {hold.TotalSeconds:0.###}");
                // Returns when the server wakes up.
                await redis.ExecuteAsync("DEBUG", "SLEEP", hold.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)).ConfigureAwait(false);
                Note("awake");
                break;
            case FaultKind.Full:
                Note("maxmemory 1 noeviction");
                await redis.ExecuteAsync("CONFIG", "SET", "maxmemory-policy", "noeviction").ConfigureAwait(false);
                await redis.ExecuteAsync("CONFIG", "SET", "maxmemory", "1").ConfigureAwait(false);
                try
                {
                    await Task.Delay(hold).ConfigureAwait(false);
                }
                finally
                {
                    await redis.ExecuteAsync("CONFIG", "SET", "maxmemory", "0").ConfigureAwait(false);
                    Note("maxmemory 0");
                }

                break;
            case FaultKind.ConnectionDrop:
                var killed = await redis.ExecuteAsync("CLIENT", "KILL", "TYPE", "normal").ConfigureAwait(false);
                Note($"CLIENT KILL TYPE normal: {killed}");
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(kind), kind, null);
        }
    }

    private void Note(string what)
    {
        lock (_events)
        {
            _events.Add($"{_clock.Elapsed.TotalSeconds,7:0.00}s {what}");
        }
    }
}

/// <summary>Bounded waits on conditions (never a sleep standing in for synchronisation).</summary>
internal static class Bounded
{
    /// <summary>Polls until <paramref name="condition"/> holds; false when <paramref name="bound"/> passes first.</summary>
    public static async Task<bool> WaitAsync(Func<Task<bool>> condition, TimeSpan bound, TimeSpan? poll = null)
    {
        var watch = Stopwatch.StartNew();
        while (true)
        {
            if (await condition().ConfigureAwait(false))
            {
                return true;
            }

            if (watch.Elapsed >= bound)
            {
                return false;
            }

            await Task.Delay(poll ?? TimeSpan.FromMilliseconds(50)).ConfigureAwait(false);
        }
    }

    public static Task<bool> WaitAsync(Func<bool> condition, TimeSpan bound, TimeSpan? poll = null) =>
        WaitAsync(() => Task.FromResult(condition()), bound, poll);
}
