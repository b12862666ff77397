using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Garnet;

namespace ZsCache.Sample.Web.Writeback;

/// <summary>
/// A Garnet server (Microsoft's Redis-compatible store, from the <c>Microsoft.Garnet</c> package)
/// hosted inside this process on a loopback port, so the sample has a writeback tier on a machine
/// with nothing but the .NET SDK. Memory only: nothing is persisted.
/// </summary>
internal sealed class EmbeddedGarnet : IDisposable
{
    /// <summary>A free port can be taken by someone else between the probe and the bind; try a few.</summary>
    private const int PortAttempts = 5;

    private readonly GarnetServer _server;

    private EmbeddedGarnet(GarnetServer server, int port)
    {
        _server = server;
        Port = port;
    }

    /// <summary>The loopback port the server listens on.</summary>
    public int Port { get; }

    /// <summary>A StackExchange.Redis configuration string for the server.</summary>
    public string ConnectionString => string.Create(CultureInfo.InvariantCulture, $"127.0.0.1:{Port}");

    /// <summary>Starts a server on <paramref name="port"/>, or on a free loopback port when it is 0.</summary>
    public static EmbeddedGarnet Start(int port)
    {
        for (var attempt = 1; ; attempt++)
        {
            var candidate = port != 0 ? port : FreeLoopbackPort();
            string[] args =
            [
                "--bind", "127.0.0.1",
                "--port", candidate.ToString(CultureInfo.InvariantCulture),
                // The Redis tier keeps its fencing rule in Lua scripts.
                "--lua", "true",
                // Room for every written-back value of the sample's catalog, several times over.
                "--memory", "256m",
                "--index", "16m",
                "--logger-level", "Error",
                // No banner on the console: the app logs which tier it runs with.
                "-q",
            ];
            var server = new GarnetServer(args);
            try
            {
                server.Start();
                return new EmbeddedGarnet(server, candidate);
            }
            catch (Exception) when (port == 0 && attempt < PortAttempts)
            {
                server.Dispose();
            }
            catch
            {
                server.Dispose();
                throw;
            }
        }
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }

    public void Dispose() => _server.Dispose();
}
