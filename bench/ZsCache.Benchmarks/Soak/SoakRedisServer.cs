using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace ZsCache.Soak;

/// <summary>
/// The soak's own redis-server: a child process on a free loopback port, no persistence, DEBUG
/// allowed from loopback. It can be killed and started again on the same port.
/// </summary>
internal sealed class SoakRedisServer : IRedisControl, IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(15);

    private readonly string _executable;
    private readonly string _directory;
    private Process? _process;

    private SoakRedisServer(string executable, int port, string directory)
    {
        _executable = executable;
        Port = port;
        _directory = directory;
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}";

    public static async Task<SoakRedisServer> StartNewAsync(string executable)
    {
        var directory = Directory.CreateTempSubdirectory("zscache-soak-").FullName;
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        var server = new SoakRedisServer(executable, port, directory);
        await server.StartAsync().ConfigureAwait(false);
        return server;
    }

    public static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    public async Task StartAsync()
    {
        var info = new ProcessStartInfo(_executable)
        {
            WorkingDirectory = _directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
        {
            "--port", Port.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
            "--dir", _directory, "--daemonize", "no", "--loglevel", "warning", "--enable-debug-command", "local",
        })
        {
            info.ArgumentList.Add(arg);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start.");
        _process.OutputDataReceived += (_, _) => { };
        _process.ErrorDataReceived += (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var watch = Stopwatch.StartNew();
        while (true)
        {
            try
            {
                if (await ExecuteAsync("PING").ConfigureAwait(false) == "PONG")
                {
                    return;
                }
            }
            catch (Exception ex) when (ex is SocketException or IOException or InvalidOperationException)
            {
                // Not listening yet.
            }

            if (watch.Elapsed > StartTimeout || _process.HasExited)
            {
                throw new InvalidOperationException($"redis-server on port {Port} did not answer PING.");
            }

            await Task.Delay(20).ConfigureAwait(false);
        }
    }

    public async Task KillAsync()
    {
        if (_process is not { } process)
        {
            return;
        }

        _process = null;
        try
        {
            process.Kill();
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }

        using var timeout = new CancellationTokenSource(StartTimeout);
        await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        process.Dispose();
    }

    /// <summary>One command on a fresh connection; the first line of the reply (status, integer or error).</summary>
    public async Task<string?> ExecuteAsync(params string[] args)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(IPAddress.Loopback, Port, timeout.Token).ConfigureAwait(false);
        var stream = client.GetStream();
        var request = new StringBuilder().Append('*').Append(args.Length).Append("\r\n");
        foreach (var arg in args)
        {
            request.Append('$').Append(Encoding.UTF8.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
        }

        await stream.WriteAsync(Encoding.UTF8.GetBytes(request.ToString()), timeout.Token).ConfigureAwait(false);
        var line = new List<byte>();
        var one = new byte[1];
        while (await stream.ReadAsync(one, timeout.Token).ConfigureAwait(false) == 1)
        {
            if (one[0] == '\n' && line.Count > 0 && line[^1] == '\r')
            {
                var text = Encoding.UTF8.GetString([.. line[..^1]]);
                return text[0] == '-' ? throw new InvalidOperationException(text[1..]) : text[1..];
            }

            line.Add(one[0]);
        }

        throw new IOException("The server closed the connection.");
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync().ConfigureAwait(false);
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort.
        }
    }
}
