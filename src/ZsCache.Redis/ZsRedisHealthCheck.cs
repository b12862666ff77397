using Microsoft.Extensions.Diagnostics.HealthChecks;
using Polly.CircuitBreaker;
using ZsCache.Redis.Internal;

namespace ZsCache.Redis;

/// <summary>
/// Reports the Redis writeback tier: <see cref="HealthStatus.Healthy"/> when it answers a PING;
/// <see cref="HealthStatus.Degraded"/> while its circuit is open (Redis failed recently: the
/// cache serves from its pool and drops cold entries instead of writing them back);
/// the registration's failure status (by default <see cref="HealthStatus.Unhealthy"/>) when the
/// PING fails with the circuit still closed. Register it with <c>AddZsCacheRedis()</c>.
/// </summary>
public sealed class ZsRedisHealthCheck : IHealthCheck
{
    private readonly RedisWritebackTier _tier;

    internal ZsRedisHealthCheck(RedisWritebackTier tier)
    {
        _tier = tier;
    }

    /// <inheritdoc />
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var circuit = _tier.CircuitState;
        // Once the break has run out and the connection is back, the ping below is the probe that
        // closes the circuit again; until then the answer is known without asking Redis.
        var open = circuit is CircuitState.Open;
        if (circuit is CircuitState.Isolated || (open && (_tier.InCircuitBreak || !_tier.IsConnected)))
        {
            return HealthCheckResult.Degraded(
                "The Redis writeback circuit is open: writeback is suspended and the cache serves from its pool.",
                data: new Dictionary<string, object> { ["circuit"] = circuit.ToString() });
        }

        if (_tier.InWriteRefusal)
        {
            return HealthCheckResult.Degraded(
                "Redis refuses writes (full, read-only or failing to persist): values are still read from it; the pool keeps what it holds and new values that find no room are not cached.",
                data: new Dictionary<string, object> { ["circuit"] = circuit.ToString(), ["writes"] = "refused" });
        }

        try
        {
            var roundTrip = await _tier.PingAsync(cancellationToken).ConfigureAwait(false);
            return HealthCheckResult.Healthy(
                "Redis writeback tier reachable.",
                new Dictionary<string, object> { ["circuit"] = circuit.ToString(), ["pingMs"] = roundTrip.TotalMilliseconds });
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
#pragma warning disable CA1031 // A health check reports faults, it does not throw them.
        catch (Exception ex)
#pragma warning restore CA1031
        {
            // A failed probe of an open circuit is the outage already reported as degraded: the
            // pool keeps serving, so this instance should stay in rotation.
            return new HealthCheckResult(
                open ? HealthStatus.Degraded : context.Registration.FailureStatus,
                "The Redis writeback tier does not answer.",
                ex,
                new Dictionary<string, object> { ["circuit"] = _tier.CircuitState.ToString() });
        }
    }
}
