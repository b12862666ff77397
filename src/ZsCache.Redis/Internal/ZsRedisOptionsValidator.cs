using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace ZsCache.Redis.Internal;

/// <summary>Checks <see cref="ZsRedisOptions"/> at start; every message names the option.</summary>
internal sealed class ZsRedisOptionsValidator : IValidateOptions<ZsRedisOptions>
{
    public ValidateOptionsResult Validate(string? name, ZsRedisOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();
        if (options.ConnectionMultiplexerFactory is null && options.ConfigurationOptions is null)
        {
            if (string.IsNullOrWhiteSpace(options.Configuration))
            {
                failures.Add($"{nameof(ZsRedisOptions)}: set one of {nameof(ZsRedisOptions.Configuration)}, {nameof(ZsRedisOptions.ConfigurationOptions)} or {nameof(ZsRedisOptions.ConnectionMultiplexerFactory)}.");
            }
            else
            {
                try
                {
                    _ = ConfigurationOptions.Parse(options.Configuration);
                }
                catch (ArgumentException)
                {
                    // The string itself is not repeated: it may hold a password.
                    failures.Add($"{nameof(ZsRedisOptions)}.{nameof(ZsRedisOptions.Configuration)} is not a valid StackExchange.Redis configuration string.");
                }
            }
        }

        if (options.AttemptTimeout <= TimeSpan.Zero)
        {
            failures.Add($"{nameof(ZsRedisOptions)}.{nameof(ZsRedisOptions.AttemptTimeout)} must be positive.");
        }

        if (options.TotalTimeout < options.AttemptTimeout || options.TotalTimeout >= options.WriteDeadline)
        {
            failures.Add($"{nameof(ZsRedisOptions)}.{nameof(ZsRedisOptions.TotalTimeout)} must be at least {nameof(ZsRedisOptions.AttemptTimeout)} and below half of {nameof(ZsRedisOptions.FenceLifetime)}.");
        }

        if (options.RetryCount < 0 || options.RetryDelay < TimeSpan.Zero)
        {
            failures.Add($"{nameof(ZsRedisOptions)}.{nameof(ZsRedisOptions.RetryCount)} and {nameof(ZsRedisOptions.RetryDelay)} must not be negative.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
