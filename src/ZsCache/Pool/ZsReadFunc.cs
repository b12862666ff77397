namespace ZsCache.Pool;

/// <summary>
/// Reads one pool object in place. <paramref name="data"/> is exactly the object's bytes and
/// is valid only during the call: the zspage's read guard is held, so the object cannot be
/// moved, freed or reclaimed-and-freed meanwhile. The callback must not call back into the
/// pool (a nested guard can deadlock against a waiting compaction) and should be short.
/// </summary>
/// <typeparam name="TState">Caller state, passed through; may be a ref struct.</typeparam>
/// <typeparam name="TResult">What the callback returns.</typeparam>
/// <param name="data">The object's bytes.</param>
/// <param name="state">The state given to <see cref="ZsPool.Read{TState, TResult}"/>.</param>
/// <returns>The callback's result.</returns>
internal delegate TResult ZsReadFunc<TState, TResult>(ReadOnlySpan<byte> data, TState state)
    where TState : allows ref struct;
