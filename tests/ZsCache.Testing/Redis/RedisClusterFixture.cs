using System.Diagnostics;
using System.Globalization;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace ZsCache.Testing.Redis;

/// <summary>
/// A three-master Redis Cluster of the test's own (<c>redis-server --cluster-enabled yes</c> on
/// free loopback ports, joined with <c>redis-cli --cluster create ... --cluster-replicas 0</c>).
/// When <c>redis-server</c> or <c>redis-cli</c> is not installed it starts nothing and tests
/// call <see cref="SkipIfUnavailable"/> to skip with the reason.
/// </summary>
public sealed class RedisClusterFixture : IAsyncLifetime
{
    private const int Masters = 3;
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    private readonly IMessageSink? _diagnostics;
    private readonly List<RedisServerProcess> _nodes = [];
    private string? _directory;

    /// <summary>Creates the fixture; the cluster starts in <see cref="InitializeAsync"/>.</summary>
    /// <param name="diagnostics">xunit's diagnostic sink (injected by xunit).</param>
    public RedisClusterFixture(IMessageSink diagnostics)
    {
        _diagnostics = diagnostics;
    }

    /// <summary>Why the cluster is not available, or null when it runs.</summary>
    public string? UnavailableReason { get; private set; }

    /// <summary>The ports of the masters.</summary>
    public IReadOnlyList<int> Ports => _nodes.Select(n => n.Port).ToArray();

    /// <summary>A StackExchange.Redis configuration string naming every master.</summary>
    public string ConnectionString => string.Join(',', Ports.Select(p => $"127.0.0.1:{p.ToString(CultureInfo.InvariantCulture)}"));

    /// <summary>Skips the calling test when the cluster could not be started for want of the binaries.</summary>
    public void SkipIfUnavailable() => Skip.If(UnavailableReason is not null, UnavailableReason);

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        var server = RedisServerProcess.FindOnPath("redis-server");
        var cli = RedisServerProcess.FindOnPath("redis-cli");
        if (server is null || cli is null)
        {
            UnavailableReason = "Redis Cluster tests need redis-server and redis-cli on PATH (CI installs both); not found here.";
            _diagnostics?.OnMessage(new DiagnosticMessage("RedisClusterFixture: " + UnavailableReason));
            return;
        }

        _directory = Directory.CreateTempSubdirectory("zscache-cluster-").FullName;
        for (var i = 0; i < Masters; i++)
        {
            var nodeDirectory = Directory.CreateDirectory(Path.Combine(_directory, i.ToString(CultureInfo.InvariantCulture))).FullName;
            var port = FreePorts.Next();
            // The cluster bus port is chosen explicitly (redis 7+) rather than port + 10000,
            // which may be taken or beyond 65535.
            var busPort = FreePorts.Next();
            var node = new RedisServerProcess(server, port, nodeDirectory,
            [
                "--cluster-enabled", "yes",
                "--cluster-config-file", "nodes.conf",
                "--cluster-node-timeout", "3000",
                "--cluster-port", busPort.ToString(CultureInfo.InvariantCulture),
            ]);
            _nodes.Add(node);
            await node.StartAsync().ConfigureAwait(false);
        }

        await CreateClusterAsync(cli).ConfigureAwait(false);
        await WaitForClusterOkAsync().ConfigureAwait(false);
        _diagnostics?.OnMessage(new DiagnosticMessage($"RedisClusterFixture: cluster ok on {ConnectionString}"));
    }

    private async Task CreateClusterAsync(string cli)
    {
        var info = new ProcessStartInfo(cli)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("--cluster");
        info.ArgumentList.Add("create");
        foreach (var port in Ports)
        {
            info.ArgumentList.Add($"127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        }

        info.ArgumentList.Add("--cluster-replicas");
        info.ArgumentList.Add("0");
        info.ArgumentList.Add("--cluster-yes");

        using var process = Process.Start(info) ?? throw new InvalidOperationException("redis-cli did not start.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(Bound);
        try
        {
            await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            process.Kill();
            throw new InvalidOperationException($"redis-cli --cluster create did not finish within {Bound.TotalSeconds} s.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"redis-cli --cluster create failed ({process.ExitCode}):{Environment.NewLine}{await stdout.ConfigureAwait(false)}{await stderr.ConfigureAwait(false)}");
        }
    }

    private async Task WaitForClusterOkAsync()
    {
        var elapsed = Stopwatch.StartNew();
        var last = string.Empty;
        while (true)
        {
            var ok = 0;
            using var io = new CancellationTokenSource(Bound);
            foreach (var port in Ports)
            {
                await using var connection = await RespConnection.ConnectAsync(port, io.Token).ConfigureAwait(false);
                last = await connection.ExecuteAsync(["CLUSTER", "INFO"], io.Token).ConfigureAwait(false) ?? string.Empty;
                if (last.Contains("cluster_state:ok", StringComparison.Ordinal))
                {
                    ok++;
                }
            }

            if (ok == Ports.Count)
            {
                return;
            }

            if (elapsed.Elapsed > Bound)
            {
                throw new InvalidOperationException($"The cluster did not reach cluster_state:ok within {Bound.TotalSeconds} s; last CLUSTER INFO:{Environment.NewLine}{last}");
            }

            // Polling a condition with a deadline, not sleeping in place of one.
            await Task.Delay(PollInterval).ConfigureAwait(false);
        }
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync().ConfigureAwait(false);
        }

        if (_directory is not null)
        {
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
}
