namespace ZsCache.Pool;

/// <summary>
/// A misuse of a <see cref="ZsPool"/> handle: null, never issued by this pool, or stale (its
/// object was freed). It derives from <see cref="InvalidOperationException"/> because the
/// caller asked for an operation that is invalid for the handle's state; the pool itself is
/// unharmed and no other object's bytes were read or written.
/// </summary>
internal sealed class ZsPoolException : InvalidOperationException
{
    /// <summary>Creates the exception with a generic message.</summary>
    public ZsPoolException()
        : base("Invalid ZsPool handle.")
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    /// <param name="message">What was wrong with the handle.</param>
    public ZsPoolException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and an inner exception.</summary>
    /// <param name="message">What was wrong.</param>
    /// <param name="innerException">The cause.</param>
    public ZsPoolException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
