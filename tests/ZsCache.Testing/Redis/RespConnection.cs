using System.Globalization;
using System.Net.Sockets;
using System.Text;

namespace ZsCache.Testing.Redis;

/// <summary>
/// A deliberately tiny RESP2 client for the fixtures: one request, one reply, no pooling, no
/// reconnection. The fixtures use it to probe and steer a server (PING, CLIENT PAUSE,
/// CONFIG SET, CLUSTER INFO) without the machinery of a real client getting in the way.
/// </summary>
public sealed class RespConnection : IAsyncDisposable
{
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;
    private readonly BufferedStream _reader;

    private RespConnection(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
        _reader = new BufferedStream(_stream);
    }

    /// <summary>Connects to <paramref name="port"/> on the loopback address.</summary>
    public static async Task<RespConnection> ConnectAsync(int port, CancellationToken cancellationToken)
    {
        var client = new TcpClient { NoDelay = true };
        try
        {
            await client.ConnectAsync("127.0.0.1", port, cancellationToken).ConfigureAwait(false);
            return new RespConnection(client);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sends one command and reads its reply: simple strings, bulk strings and integers come back
    /// as text, a nil as null, an array as its elements joined by newlines; an error reply throws
    /// <see cref="InvalidOperationException"/> with the server's message.
    /// </summary>
    public async Task<string?> ExecuteAsync(IReadOnlyList<string> args, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(args);
        var request = new StringBuilder();
        request.Append('*').Append(args.Count).Append("\r\n");
        foreach (var arg in args)
        {
            request.Append('$').Append(Encoding.UTF8.GetByteCount(arg)).Append("\r\n").Append(arg).Append("\r\n");
        }

        var bytes = Encoding.UTF8.GetBytes(request.ToString());
        await _stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        return await ReadReplyAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<string?> ReadReplyAsync(CancellationToken cancellationToken)
    {
        var line = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
        var body = line[1..];
        switch (line[0])
        {
            case '+':
            case ':':
                return body;
            case '-':
                throw new InvalidOperationException(body);
            case '$':
                var length = int.Parse(body, CultureInfo.InvariantCulture);
                if (length < 0)
                {
                    return null;
                }

                var buffer = new byte[length + 2];
                await _reader.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
                return Encoding.UTF8.GetString(buffer, 0, length);
            case '*':
                var count = int.Parse(body, CultureInfo.InvariantCulture);
                if (count < 0)
                {
                    return null;
                }

                var items = new List<string?>(count);
                for (var i = 0; i < count; i++)
                {
                    items.Add(await ReadReplyAsync(cancellationToken).ConfigureAwait(false));
                }

                return string.Join('\n', items);
            default:
                throw new InvalidOperationException($"Unexpected RESP reply type '{line[0]}'.");
        }
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        var bytes = new List<byte>(64);
        var one = new byte[1];
        while (true)
        {
            var read = await _reader.ReadAsync(one, cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new EndOfStreamException("The server closed the connection.");
            }

            if (one[0] == '\n' && bytes.Count > 0 && bytes[^1] == '\r')
            {
                return Encoding.UTF8.GetString(bytes.ToArray(), 0, bytes.Count - 1);
            }

            bytes.Add(one[0]);
        }
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        await _reader.DisposeAsync().ConfigureAwait(false);
        _client.Dispose();
    }
}
