using System.Net;
using System.Net.Sockets;

namespace ZsCache.Testing.Redis;

/// <summary>Finds loopback ports that are free at the moment of asking.</summary>
public static class FreePorts
{
    /// <summary>
    /// Returns a loopback TCP port the OS just handed out and released. Another process could
    /// take it before the caller binds it; the fixtures retry with a new port when a server
    /// fails to bind.
    /// </summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
