using Microsoft.Extensions.Options;

namespace ZsCache.Internal;

/// <summary>Rejects options the cache cannot honour, with a message that names the option.</summary>
internal sealed class ZsCacheOptionsValidator : IValidateOptions<ZsCacheOptions>
{
    /// <summary>Values are addressed with 32-bit lengths; one GiB leaves room for headers.</summary>
    public const long MaxValueBytesLimit = 1L << 30;

    public ValidateOptionsResult Validate(string? name, ZsCacheOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        List<string>? failures = null;
        if (options.MaxPoolBytes < ZsCacheOptions.MinPoolBytes)
        {
            (failures ??= []).Add($"{nameof(ZsCacheOptions.MaxPoolBytes)} must be at least {ZsCacheOptions.MinPoolBytes} bytes (1 MiB); it is {options.MaxPoolBytes}.");
        }

        if (options.MaxValueBytes < 1 || options.MaxValueBytes > MaxValueBytesLimit)
        {
            (failures ??= []).Add($"{nameof(ZsCacheOptions.MaxValueBytes)} must be between 1 and {MaxValueBytesLimit} bytes (1 GiB); it is {options.MaxValueBytes}.");
        }

        if (!Enum.IsDefined(options.Compression))
        {
            (failures ??= []).Add($"{nameof(ZsCacheOptions.Compression)} has no codec for the value {(int)options.Compression}.");
        }

        if (!Enum.IsDefined(options.WritebackPolicy))
        {
            (failures ??= []).Add($"{nameof(ZsCacheOptions.WritebackPolicy)} has no policy for the value {(int)options.WritebackPolicy}.");
        }

        return failures is null ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
