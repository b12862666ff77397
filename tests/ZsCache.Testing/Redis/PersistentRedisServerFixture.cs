using Xunit.Abstractions;

namespace ZsCache.Testing.Redis;

/// <summary>
/// A redis-server that keeps its data across a kill and a restart: an append-only file synced
/// on every write (<c>appendfsync always</c>), in the fixture's own directory. For tests that
/// must tell values Redis lost from values the cache lost. Garnet (the fallback when
/// redis-server is missing) keeps nothing; tests that kill the server skip on it anyway.
/// </summary>
public sealed class PersistentRedisServerFixture(IMessageSink diagnostics) : RedisServerFixture(diagnostics)
{
    /// <inheritdoc />
    protected override IReadOnlyList<string> ExtraServerArgs => ["--appendonly", "yes", "--appendfsync", "always"];
}
