using System.Buffers.Binary;
using System.Text;
using StackExchange.Redis;
using ZsCache.Cache;
using ZsCache.Internal;

namespace ZsCache.Redis.Internal;

// Coherence between instances: every fence is published, once Redis holds it, on a channel named
// after the InstanceName, and every instance listens, so a Set or Remove on one instance takes
// older copies out of the pools of the others, not only out of Redis.
internal sealed partial class RedisWritebackTier
{
    /// <summary>Prefix of the fence channel; the InstanceName follows, so only caches that share keys share it.</summary>
    internal const string FenceChannelPrefix = "__zscache:fences:";

    /// <summary>The fence message: version (8 bytes, big-endian), the writer's id (16), then the key in UTF-8.</summary>
    private const int FenceMessageHeader = 8 + 16;

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>This tier's id in fence messages: its own fences come back to it and are ignored.</summary>
    private readonly Guid _writerId = Guid.NewGuid();

    private readonly CancellationTokenSource _subscribing = new();
    private Action<string, long>? _fenced;
    private RedisChannel _fenceChannel;

    private string FenceChannelName => FenceChannelPrefix + _prefix;

    /// <summary>Fence messages from other instances handed to the cache (tests look at it).</summary>
    internal long FencesHeard => Volatile.Read(ref _fencesHeard);

    private long _fencesHeard;

    /// <summary>True once Redis confirmed the first subscription (tests wait for it; reconnections resubscribe on their own).</summary>
    internal bool IsSubscribed => Volatile.Read(ref _subscribed);

    private bool _subscribed;

    /// <inheritdoc />
    public void SubscribeToFences(Action<string, long> fenced)
    {
        ArgumentNullException.ThrowIfNull(fenced);
        if (Interlocked.CompareExchange(ref _fenced, fenced, null) is not null)
        {
            throw new InvalidOperationException("The tier already reports its fences to a cache; one tier serves one cache.");
        }

        _fenceChannel = RedisChannel.Literal(FenceChannelName);
        _ = SubscribeAsync();
    }

    /// <summary>
    /// Subscribes, trying again with backoff until Redis confirms (it may be down, or not yet
    /// connected, as the cache starts). Once confirmed, StackExchange.Redis sends the subscription
    /// again on every reconnection by itself. A failed attempt may still have left the handler
    /// registered in the multiplexer, so it is taken off before the next, lest messages arrive twice.
    /// </summary>
    private async Task SubscribeAsync()
    {
        var token = _subscribing.Token;
        var delay = TimeSpan.FromMilliseconds(100);
        var logged = false;
        while (!token.IsCancellationRequested)
        {
            ISubscriber? subscriber = null;
            try
            {
                var connection = await MultiplexerAsync(token).ConfigureAwait(false);
                subscriber = connection.GetSubscriber();
                await subscriber.SubscribeAsync(_fenceChannel, OnFenceMessage).WaitAsync(token).ConfigureAwait(false);
                Volatile.Write(ref _subscribed, true);
                return;
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                // Disposed meanwhile: the handler may have been registered after the unsubscribe.
                TryUnsubscribe(subscriber);
                return;
            }
#pragma warning disable CA1031 // Never throw for tier faults: keep trying in the background.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                if (!logged)
                {
                    Log.SubscribeFailed(_logger, ex);
                    logged = true;
                }

                TryUnsubscribe(subscriber);
            }

            try
            {
                await Task.Delay(delay, token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
        }
    }

    private void TryUnsubscribe(ISubscriber? subscriber)
    {
        try
        {
            subscriber?.Unsubscribe(_fenceChannel, OnFenceMessage, CommandFlags.FireAndForget);
        }
#pragma warning disable CA1031 // Best effort: the next attempt registers the handler again either way.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    /// <summary>Takes the handler off (an app's multiplexer lives on), without waiting on a Redis that may be away.</summary>
    private void Unsubscribe(IConnectionMultiplexer connection)
    {
        if (_fenced is not null)
        {
            TryUnsubscribe(connection.GetSubscriber());
        }
    }

    /// <summary>
    /// Publishes a fence Redis has confirmed. From the client, after the script, not from inside
    /// it: a channel name passed to a script misses the multiplexer's ChannelPrefix, which the
    /// subscription gets, so a prefixed multiplexer would never hear itself. Still never before
    /// Redis holds the fence, so an instance that hears it and faults the key in finds the fence.
    /// Fire and forget: a message lost here is lost as one lost in transit would be.
    /// </summary>
    private void AnnounceFence(string key, long version)
    {
        if (_fenced is null || Encoding.UTF8.GetByteCount(key) > ObjectLayout.MaxKeyBytes || ConnectedMultiplexer is not { } connection)
        {
            return;
        }

        try
        {
            connection.GetSubscriber().Publish(_fenceChannel, EncodeFenceMessage(key, version), CommandFlags.FireAndForget);
        }
#pragma warning disable CA1031 // Best effort, like the delivery it starts.
        catch (Exception)
#pragma warning restore CA1031
        {
        }
    }

    private byte[] EncodeFenceMessage(string key, long version)
    {
        var message = new byte[FenceMessageHeader + Encoding.UTF8.GetByteCount(key)];
        BinaryPrimitives.WriteInt64BigEndian(message, version);
        _writerId.TryWriteBytes(message.AsSpan(8, 16));
        Encoding.UTF8.GetBytes(key, message.AsSpan(FenceMessageHeader));
        return message;
    }

    /// <summary>
    /// Decodes a fence message. Anyone who can publish to the Redis can send one, so it is checked
    /// like a payload: the worst a forged message can do is make this instance drop one entry from
    /// its pool, which reads as a miss, as a DEL of the key in Redis would.
    /// </summary>
    internal static bool TryDecodeFenceMessage(ReadOnlySpan<byte> message, out Guid writer, out long version, out string? key)
    {
        writer = default;
        version = 0;
        key = null;
        if (message.Length < FenceMessageHeader || message.Length > FenceMessageHeader + ObjectLayout.MaxKeyBytes)
        {
            return false;
        }

        version = BinaryPrimitives.ReadInt64BigEndian(message);
        if (version <= 0)
        {
            return false;
        }

        writer = new Guid(message.Slice(8, 16));
        try
        {
            key = StrictUtf8.GetString(message[FenceMessageHeader..]);
        }
        catch (DecoderFallbackException)
        {
            return false;
        }

        return true;
    }

    /// <summary>Messages on the fence channel that were not fences (tests look at it).</summary>
    internal long FenceMessagesRejected => Volatile.Read(ref _fenceMessagesRejected);

    private long _fenceMessagesRejected;

    /// <summary>Rejected messages are reported once a minute at most: anyone who can publish there could otherwise flood the log.</summary>
    private readonly ReportThrottle _rejectedReports = new(TimeSpan.FromMinutes(1));

    private void NoteRejectedMessage()
    {
        if (_rejectedReports.Note() is var count and > 0)
        {
            Log.InvalidFenceMessages(_logger, count, _rejectedReports.Interval);
        }

        // Counted last, so a test that sees the count sees the report it led to.
        Interlocked.Increment(ref _fenceMessagesRejected);
    }

    private void OnFenceMessage(RedisChannel channel, RedisValue message)
    {
        try
        {
            if (!TryDecodeFenceMessage((byte[]?)message ?? [], out var writer, out var version, out var key))
            {
                NoteRejectedMessage();
                return;
            }

            if (writer == _writerId)
            {
                return;
            }

            Interlocked.Increment(ref _fencesHeard);
            _fenced?.Invoke(key!, version);
        }
#pragma warning disable CA1031 // A message handler that throws would take nothing but the message with it; log it.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            Log.FenceMessageFailed(_logger, ex);
        }
    }
}
