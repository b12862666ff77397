using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace ZsCache.Benchmarks.Caches;

/// <summary>
/// A <c>redis-server</c> this process starts for itself on a free loopback port, with persistence
/// off, and stops by its pid. Never touches a server it did not start.
/// </summary>
public sealed class RedisServerProcess : IDisposable
{
    private readonly Process _process;
    private int _disposed;

    private RedisServerProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public int Pid => _process.Id;

    public string Configuration => $"127.0.0.1:{Port},abortConnect=false";

    /// <summary>The redis-server on PATH, or null when there is none.</summary>
    public static string? FindExecutable()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator))
        {
            string candidate = Path.Combine(dir, "redis-server");
            if (dir.Length > 0 && File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Starts a server, or returns null with the reason it could not.</summary>
    public static RedisServerProcess? TryStart(out string? reason)
    {
        string? exe = FindExecutable();
        if (exe is null)
        {
            reason = "redis-server is not installed (apt-get install redis-server)";
            return null;
        }

        for (int attempt = 0; attempt < 3; attempt++)
        {
            int port = FreeLoopbackPort();
            var start = new ProcessStartInfo(exe)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string arg in new[]
            {
                "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes",
                "--maxmemory", "0", "--loglevel", "warning",
            })
            {
                start.ArgumentList.Add(arg);
            }

            var process = Process.Start(start)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            var server = new RedisServerProcess(process, port);
            if (server.WaitUntilListening(TimeSpan.FromSeconds(10)))
            {
                AppDomain.CurrentDomain.ProcessExit += (_, _) => server.Dispose();
                reason = null;
                return server;
            }

            server.Dispose();
        }

        reason = "redis-server did not start listening on a loopback port";
        return null;
    }

    private bool WaitUntilListening(TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout && !_process.HasExited)
        {
            try
            {
                using var client = new TcpClient();
                client.Connect(IPAddress.Loopback, Port);
                using var stream = client.GetStream();
                stream.Write("PING\r\n"u8);
                var buffer = new byte[16];
                int n = stream.Read(buffer);
                if (n >= 5 && buffer.AsSpan(0, 5).SequenceEqual("+PONG"u8))
                {
                    return true;
                }
            }
            catch (SocketException)
            {
            }

            Thread.Sleep(20);
        }

        return false;
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        _process.Dispose();
    }
}
