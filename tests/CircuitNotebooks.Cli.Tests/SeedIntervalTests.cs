using CircuitNotebooks.Cli.Reproduce;
using Xunit;

namespace CircuitNotebooks.Cli.Tests;

public sealed class SeedIntervalTests
{
    [Fact]
    public void ThreeSeedsGiveTheHandComputedTInterval()
    {
        // [1, 2, 4]: mean 7/3, sample sd √(7/3) = 1.527525, t(0.975, 2) = 4.303 → half-width 4.303 · 1.527525 / √3 = 3.794889.
        var i = SeedInterval.Of([1, 2, 4]);
        Assert.Equal(2.333333, i.Mean, 6);
        Assert.Equal(2.333333 - 3.794889, i.Low, 5);
        Assert.Equal(2.333333 + 3.794889, i.High, 5);
        Assert.Equal(new[] { i.Low, i.High }, i.Ci95);
    }

    [Fact]
    public void OneSeedHasNoInterval()
    {
        var i = SeedInterval.Of([0.7]);
        Assert.Equal((0.7, 0.7, 0.7), (i.Mean, i.Low, i.High));
        Assert.Null(i.Ci95);
    }

    [Theory]
    [InlineData(1, 12.706)]
    [InlineData(4, 2.776)]
    [InlineData(30, 2.042)]
    // Beyond the table: exact quantiles 2.021075 (40), 1.983972 (100), 1.962339 (1000).
    [InlineData(40, 2.021075)]
    [InlineData(100, 1.983972)]
    [InlineData(1000, 1.962339)]
    public void TQuantileMatchesPublishedValues(int df, double expected) =>
        Assert.Equal(expected, SeedInterval.TQuantile975(df), 3);
}
