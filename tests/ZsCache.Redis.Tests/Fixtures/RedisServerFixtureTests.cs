using System.Diagnostics;
using System.Net.Sockets;
using ZsCache.Testing.Redis;

namespace ZsCache.Redis.Tests.Fixtures;

public sealed class RedisServerFixtureTests(RedisServerFixture server) : IClassFixture<RedisServerFixture>
{
    [Fact]
    public async Task Server_answers_commands()
    {
        Assert.Equal("PONG", await server.ExecuteAsync("PING"));
        Assert.Equal("OK", await server.ExecuteAsync("SET", "fixture:k", "v"));
        Assert.Equal("v", await server.ExecuteAsync("GET", "fixture:k"));
        Assert.Null(await server.ExecuteAsync("GET", "fixture:missing"));
    }

    [SkippableFact]
    public async Task Kill_stops_the_process_and_start_brings_it_back_on_the_same_port()
    {
        server.SkipUnlessProcess();
        var pid = server.ProcessId!.Value;
        var port = server.Port;

        await server.KillAsync();
        Assert.Null(server.ProcessId);
        Assert.Throws<ArgumentException>(() => Process.GetProcessById(pid));
        await Assert.ThrowsAnyAsync<SocketException>(() => server.ExecuteAsync("PING"));

        await server.StartAsync();
        Assert.Equal(port, server.Port);
        Assert.NotEqual(pid, server.ProcessId);
        Assert.Equal("PONG", await server.ExecuteAsync("PING"));
    }

    [SkippableFact]
    public async Task Pause_holds_other_clients_until_it_ends()
    {
        server.SkipUnlessProcess();
        var watch = Stopwatch.StartNew();
        await server.PauseAsync(TimeSpan.FromMilliseconds(300));
        // This command is held by the server until the pause is over: the pause is observed, not slept.
        Assert.Equal("OK", await server.ExecuteAsync("SET", "fixture:after-pause", "v"));
        Assert.True(watch.Elapsed >= TimeSpan.FromMilliseconds(250), $"returned after {watch.Elapsed}");
    }
}

public sealed class RedisClusterFixtureTests(RedisClusterFixture cluster) : IClassFixture<RedisClusterFixture>
{
    [SkippableFact]
    public async Task Cluster_has_three_masters_and_is_ok()
    {
        cluster.SkipIfUnavailable();
        Assert.Equal(3, cluster.Ports.Count);
        await using var connection = await RespConnection.ConnectAsync(cluster.Ports[0], CancellationToken.None);
        var info = await connection.ExecuteAsync(["CLUSTER", "INFO"], CancellationToken.None);
        Assert.Contains("cluster_state:ok", info, StringComparison.Ordinal);
        Assert.Contains("cluster_known_nodes:3", info, StringComparison.Ordinal);
    }
}
