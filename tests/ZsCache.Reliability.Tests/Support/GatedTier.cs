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
    private TaskCompletionSource _fences = Open();

    public TimeSpan FenceLifetime => inner.FenceLifetime;

    public bool IsAvailable => inner.IsAvailable;


    public bool AcceptsWrites => inner.AcceptsWrites;

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

    /// <summary>Fences wait (before reaching the inner tier) until <see cref="ReleaseFences"/>.</summary>
    public void HoldFences() => _fences = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

    public void ReleaseFences() => _fences.TrySetResult();

    private static TaskCompletionSource Open()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }

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

    public void SubscribeToFences(Action<string, long> fenced) => inner.SubscribeToFences(fenced);

    public async ValueTask<bool> FenceAsync(string key, long version, CancellationToken cancellationToken)
    {
        await _fences.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken).ConfigureAwait(false);
        return await inner.FenceAsync(key, version, cancellationToken).ConfigureAwait(false);
    }

    public ValueTask<bool> RefreshAsync(string key, DateTimeOffset now, CancellationToken cancellationToken) => inner.RefreshAsync(key, now, cancellationToken);
}
