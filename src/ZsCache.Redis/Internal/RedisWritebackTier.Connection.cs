using StackExchange.Redis;

namespace ZsCache.Redis.Internal;

// The multiplexer: created (or obtained from the app's factory) lazily and once, shared by
// every call, disposed here only when it was created here.
internal sealed partial class RedisWritebackTier
{
    private readonly Lock _connectGate = new();
    private Task<IConnectionMultiplexer>? _connecting;
    private bool _ownsConnection;
    private bool _disposed;

    /// <summary>The multiplexer once it exists, else null.</summary>
    private IConnectionMultiplexer? ConnectedMultiplexer =>
        _connecting is { IsCompletedSuccessfully: true } done ? done.Result : null;

    /// <summary>The multiplexer once connected (tests look at it).</summary>
    internal IConnectionMultiplexer? Multiplexer => ConnectedMultiplexer;

    private async ValueTask<IDatabase> DatabaseAsync(CancellationToken cancellationToken) =>
        (await MultiplexerAsync(cancellationToken).ConfigureAwait(false)).GetDatabase();

    private async ValueTask<IConnectionMultiplexer> MultiplexerAsync(CancellationToken cancellationToken)
    {
        Task<IConnectionMultiplexer> connecting;
        lock (_connectGate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);

            // A failed attempt (the app's factory threw, say) is forgotten so the next call tries again.
            if (_connecting is null || _connecting.IsFaulted || _connecting.IsCanceled)
            {
                _connecting = ConnectAsync();
            }

            connecting = _connecting;
        }

        // Waiting is bounded by the caller's attempt timeout; the connection attempt itself goes on.
        return await connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<IConnectionMultiplexer> ConnectAsync()
    {
        try
        {
            IConnectionMultiplexer connection;
            if (_options.ConnectionMultiplexerFactory is { } factory)
            {
                connection = await factory().ConfigureAwait(false);
                _ownsConnection = false;
            }
            else
            {
                var configuration = _options.ConfigurationOptions?.Clone() ?? ConfigurationOptions.Parse(_options.Configuration!);
                // Start even when Redis is down (the cache works without its tier) and fail commands
                // fast while disconnected rather than queueing them.
                configuration.AbortOnConnectFail = false;
                configuration.BacklogPolicy = BacklogPolicy.FailFast;
                connection = await ConnectionMultiplexer.ConnectAsync(configuration).ConfigureAwait(false);
                _ownsConnection = true;
            }

            connection.ConnectionFailed += OnConnectionFailed;
            connection.ConnectionRestored += OnConnectionRestored;
            return connection;
        }
        catch (Exception ex)
        {
            Log.ConnectFailed(_logger, ex);
            throw;
        }
    }

    private void OnConnectionFailed(object? sender, ConnectionFailedEventArgs e) =>
        Log.ConnectionFailed(_logger, e.EndPoint?.ToString(), e.FailureType, e.Exception);

    private void OnConnectionRestored(object? sender, ConnectionFailedEventArgs e) =>
        Log.ConnectionRestored(_logger, e.EndPoint?.ToString());

    /// <inheritdoc />
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        Task<IConnectionMultiplexer>? connecting;
        lock (_connectGate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            connecting = _connecting;
        }

        // Ends the subscription's retries, whether or not a connection ever came.
        await _subscribing.CancelAsync().ConfigureAwait(false);

        if (connecting is null)
        {
            return;
        }

        IConnectionMultiplexer connection;
        try
        {
            connection = await connecting.ConfigureAwait(false);
        }
#pragma warning disable CA1031 // Nothing to dispose when the connection never came.
        catch (Exception)
#pragma warning restore CA1031
        {
            return;
        }

        connection.ConnectionFailed -= OnConnectionFailed;
        connection.ConnectionRestored -= OnConnectionRestored;

        // An app's own multiplexer lives on: take our handler off it.
        Unsubscribe(connection);
        if (_ownsConnection)
        {
            await connection.DisposeAsync().ConfigureAwait(false);
        }
    }
}
