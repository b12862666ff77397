using ZsCache.Writeback;

namespace ZsCache.Reliability.Tests.Support;

/// <summary>
/// A pass-through tier that can hold a read after the inner tier answered it, until released:
/// the deterministic way to put a Set or Remove between a fault-in's Redis read and its return.
/// </summary>
internal sealed class GatedTier(IZsWritebackTier inner) : IZsWritebackTier
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource? _armed;

    public TimeSpan FenceLifetime => inner.FenceLifetime;

    public bool IsAvailable => inner.IsAvailable;

    /// <summary>
    /// The next read waits, once the inner tier has answered it, until <see cref="Release"/>.
    /// The returned task completes when that read is being held.
    /// </summary>
    public Task HoldNextRead()
    {
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Volatile.Write(ref _armed, reached);
        return reached.Task;
    }

    public void Release() => _release.TrySetResult();

    public async ValueTask<ZsWritebackValue?> ReadAsync(string key, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var value = await inner.ReadAsync(key, now, cancellationToken).ConfigureAwait(false);
        if (Interlocked.Exchange(ref _armed, null) is { } reached)
        {
            reached.TrySetResult();
            await _release.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        }

        return value;
    }

    public ValueTask WriteAsync(IReadOnlyList<ZsWritebackItem> items, CancellationToken cancellationToken) => inner.WriteAsync(items, cancellationToken);

    public ValueTask<bool> FenceAsync(string key, long version, CancellationToken cancellationToken) => inner.FenceAsync(key, version, cancellationToken);

    public ValueTask<bool> RefreshAsync(string key, DateTimeOffset now, CancellationToken cancellationToken) => inner.RefreshAsync(key, now, cancellationToken);
}
