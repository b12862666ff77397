namespace ZsCache.Tests;

public class SmokeTests
{
    [Fact]
    public void Default_options_keep_the_pool_limit_above_the_minimum()
    {
        var options = new ZsCacheOptions();
        Assert.True(options.MaxPoolBytes >= ZsCacheOptions.MinPoolBytes);
    }
}
