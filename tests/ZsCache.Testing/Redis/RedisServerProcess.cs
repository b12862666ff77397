using System.Diagnostics;
using System.Globalization;

namespace ZsCache.Testing.Redis;

/// <summary>
/// One <c>redis-server</c> child process on a loopback port, in its own directory, with no
/// persistence. It can be killed (by process id) and started again on the same port. The
/// fixtures build on it; tests normally use <see cref="RedisServerFixture"/> or
/// <see cref="RedisClusterFixture"/> instead.
/// </summary>
public sealed class RedisServerProcess : IAsyncDisposable
{
    // Bounded waits: a local redis-server answers PING within milliseconds of starting; these
    // only stop a broken environment from hanging a test run.
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(20);
    private const int OutputLinesKept = 50;

    private readonly string _executable;
    private readonly string _directory;
    private readonly IReadOnlyList<string> _extraArgs;
    private readonly Queue<string> _output = new();
    private Process? _process;

    /// <summary>Prepares (does not start) a server.</summary>
    /// <param name="executable">Path of <c>redis-server</c>.</param>
    /// <param name="port">The loopback port to listen on.</param>
    /// <param name="directory">Its working directory (must exist).</param>
    /// <param name="extraArgs">More arguments, for example the cluster ones.</param>
    public RedisServerProcess(string executable, int port, string directory, IReadOnlyList<string>? extraArgs = null)
    {
        _executable = executable;
        Port = port;
        _directory = directory;
        _extraArgs = extraArgs ?? [];
    }

    /// <summary>The loopback port.</summary>
    public int Port { get; }

    /// <summary>The process id while running, else null.</summary>
    public int? ProcessId { get; private set; }

    /// <summary>The last lines the server printed, for failure messages.</summary>
    public string RecentOutput
    {
        get
        {
            lock (_output)
            {
                return string.Join(Environment.NewLine, _output);
            }
        }
    }

    /// <summary>Finds an executable on PATH, or returns null.</summary>
    public static string? FindOnPath(string name)
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? string.Empty;
        foreach (var dir in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Starts the process and waits (bounded) until it answers PING.</summary>
    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (ProcessId is not null)
        {
            throw new InvalidOperationException($"redis-server on port {Port} is already running.");
        }

        var info = new ProcessStartInfo(_executable)
        {
            WorkingDirectory = _directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        string[] args =
        [
            "--port", Port.ToString(CultureInfo.InvariantCulture),
            "--bind", "127.0.0.1",
            "--save", string.Empty,
            "--appendonly", "no",
            "--dir", _directory,
            "--daemonize", "no",
            "--loglevel", "warning",
        ];
        foreach (var arg in args.Concat(_extraArgs))
        {
            info.ArgumentList.Add(arg);
        }

        var process = new Process { StartInfo = info };
        process.OutputDataReceived += (_, e) => Remember(e.Data);
        process.ErrorDataReceived += (_, e) => Remember(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        ProcessId = process.Id;

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(StartTimeout);
        try
        {
            await WaitForPingAsync(process, timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            await KillAsync().ConfigureAwait(false);
            throw new InvalidOperationException(
                $"redis-server on port {Port} did not answer PING within {StartTimeout.TotalSeconds} s. Its output:{Environment.NewLine}{RecentOutput}", ex);
        }
    }

    private async Task WaitForPingAsync(Process process, CancellationToken cancellationToken)
    {
        while (true)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"redis-server exited with code {process.ExitCode}.");
            }

            try
            {
                await using var connection = await RespConnection.ConnectAsync(Port, cancellationToken).ConfigureAwait(false);
                if (await connection.ExecuteAsync(["PING"], cancellationToken).ConfigureAwait(false) == "PONG")
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or IOException or InvalidOperationException)
            {
                // Not listening yet (or still loading): poll again until the deadline.
            }

            await Task.Delay(PollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Kills the process (by its process id) and waits for it to exit. No-op when not running.</summary>
    public async Task KillAsync()
    {
        var process = _process;
        var pid = ProcessId;
        _process = null;
        ProcessId = null;
        if (process is null || pid is null)
        {
            return;
        }

        try
        {
            using var byId = Process.GetProcessById(pid.Value);
            byId.Kill();
        }
        catch (ArgumentException)
        {
            // Already gone.
        }
        catch (InvalidOperationException)
        {
            // Exited between the lookup and the kill.
        }

        using var exited = new CancellationTokenSource(StartTimeout);
        await process.WaitForExitAsync(exited.Token).ConfigureAwait(false);
        process.Dispose();
    }

    private void Remember(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Enqueue(line);
            while (_output.Count > OutputLinesKept)
            {
                _output.Dequeue();
            }
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync() => await KillAsync().ConfigureAwait(false);
}
