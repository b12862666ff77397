using System.Globalization;

namespace ZsCache.Reliability.Tests.Support;

/// <summary>
/// Durations of the load runs. The suite is sized to finish in a few minutes on two shared
/// cores; set <c>ZSCACHE_RELIABILITY_SCALE</c> (for example 5) to run every load longer.
/// </summary>
internal static class Scale
{
    public static double Factor { get; } =
        double.TryParse(Environment.GetEnvironmentVariable("ZSCACHE_RELIABILITY_SCALE"), NumberStyles.Float, CultureInfo.InvariantCulture, out var f) && f > 0 ? f : 1.0;

    public static TimeSpan Seconds(double seconds) => TimeSpan.FromSeconds(seconds * Factor);
}
