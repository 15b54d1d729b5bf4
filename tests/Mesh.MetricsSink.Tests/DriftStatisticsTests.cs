namespace Mesh.MetricsSink.Tests;

/// <summary>
/// PSI and the binned KS test against numbers computed apart, in plain Python (no numpy or scipy on this machine):
/// <c>sum((p-q)*log(p/q))</c> with shares floored at 1e-4, the largest gap of the cumulative shares, and
/// <c>2*sum((-1)**(j-1)*exp(-2*j*j*lam*lam))</c> at <c>lam = (sqrt(ne) + 0.12 + 0.11/sqrt(ne)) * D</c>, <c>ne = n*m/(n+m)</c>.
/// </summary>
public sealed class DriftStatisticsTests
{
    [Fact]
    public void Psi_WindowWithAnEmptyReferenceBin_MatchesIndependentComputation()
    {
        long[] reference = [0, 10, 20, 30, 40, 0];
        long[] window = [5, 10, 10, 20, 15, 0];

        Assert.Equal(0.6739252551964486, DriftStatistics.Psi(reference, window), 12);
    }

    [Fact]
    public void KolmogorovSmirnov_SmallSamples_MatchesIndependentComputation()
    {
        var (d, p) = DriftStatistics.KolmogorovSmirnov([0, 10, 20, 30, 40, 0], [5, 10, 10, 20, 15, 0]);

        Assert.Equal(0.15, d, 12);
        Assert.Equal(0.34086006561045545, p, 10);
    }

    [Fact]
    public void PsiAndKs_ClearShift_MatchIndependentComputation()
    {
        long[] reference = [0, 50, 30, 20, 0];
        long[] window = [0, 20, 30, 40, 10];

        Assert.Equal(1.103601408044551, DriftStatistics.Psi(reference, window), 12);
        var (d, p) = DriftStatistics.KolmogorovSmirnov(reference, window);
        Assert.Equal(0.3, d, 12);
        Assert.Equal(0.00017421323105301873, p, 12);
    }

    [Fact]
    public void PsiAndKs_SameShares_NoDrift()
    {
        Assert.Equal(0, DriftStatistics.Psi([0, 25, 25, 50, 0], [0, 50, 50, 100, 0]), 12);
        Assert.Equal((0.0, 1.0), DriftStatistics.KolmogorovSmirnov([0, 25, 25, 50, 0], [0, 50, 50, 100, 0]));
    }

    [Fact]
    public void PsiAndKs_EmptyWindow_NaN()
    {
        Assert.True(double.IsNaN(DriftStatistics.Psi([1, 2], [0, 0])));
        Assert.True(double.IsNaN(DriftStatistics.KolmogorovSmirnov([1, 2], [0, 0]).PValue));
    }

    [Theory]
    [InlineData(1.0, 0.26999967167735456)]
    [InlineData(1.3581, 0.05000)]
    [InlineData(1.6276, 0.01000)]
    public void KolmogorovQ_KnownPoints_MatchTheKolmogorovDistribution(double lambda, double expected)
    {
        // The 5% and 1% points of the Kolmogorov distribution are 1.3581 and 1.6276 (tables to 4 decimals).
        Assert.Equal(expected, DriftStatistics.KolmogorovQ(lambda), 4);
    }
}
