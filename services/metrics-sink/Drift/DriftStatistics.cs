namespace Mesh.MetricsSink.Drift;

/// <summary>
/// Two-sample comparisons of a window's bin counts with the reference's, on the same bins. Both work on bins, not raw
/// values: memory stays fixed whatever the traffic, at the price that the KS statistic is taken only at bin edges
/// (it can only be smaller than on raw values, so its p-value errs high: fewer false alarms, not more).
/// </summary>
internal static class DriftStatistics
{
    /// <summary>The share an empty bin is given, so PSI stays finite (the usual 0.0001).</summary>
    public const double EmptyBinShare = 1e-4;

    /// <summary>
    /// Population stability index: the sum over bins of <c>(p - q) ln(p / q)</c>, window shares <c>p</c> against
    /// reference shares <c>q</c>, an empty bin counting as <see cref="EmptyBinShare"/>. NaN when either side is empty.
    /// </summary>
    public static double Psi(ReadOnlySpan<long> reference, ReadOnlySpan<long> window)
    {
        var m = Sum(reference);
        var n = Sum(window);
        if (m == 0 || n == 0)
        {
            return double.NaN;
        }

        var psi = 0.0;
        for (var i = 0; i < reference.Length; i++)
        {
            var q = Math.Max((double)reference[i] / m, EmptyBinShare);
            var p = Math.Max((double)window[i] / n, EmptyBinShare);
            psi += (p - q) * Math.Log(p / q);
        }

        return psi;
    }

    /// <summary>
    /// The two-sample Kolmogorov–Smirnov statistic on the binned cumulative distributions (the largest gap between
    /// them at a bin edge) and its asymptotic p-value, with Stephens' small-sample correction of the effective size
    /// (Numerical Recipes' <c>kstwo</c>). NaN for both when either side is empty.
    /// </summary>
    public static (double Statistic, double PValue) KolmogorovSmirnov(ReadOnlySpan<long> reference, ReadOnlySpan<long> window)
    {
        var m = Sum(reference);
        var n = Sum(window);
        if (m == 0 || n == 0)
        {
            return (double.NaN, double.NaN);
        }

        long cumulativeReference = 0;
        long cumulativeWindow = 0;
        var d = 0.0;
        for (var i = 0; i < reference.Length; i++)
        {
            cumulativeReference += reference[i];
            cumulativeWindow += window[i];
            d = Math.Max(d, Math.Abs(((double)cumulativeReference / m) - ((double)cumulativeWindow / n)));
        }

        var effective = Math.Sqrt((double)n * m / (n + m));
        return (d, KolmogorovQ((effective + 0.12 + (0.11 / effective)) * d));
    }

    /// <summary>The Kolmogorov distribution's survival function <c>Q(λ) = 2 Σ (-1)^(j-1) exp(-2 j² λ²)</c>.</summary>
    public static double KolmogorovQ(double lambda)
    {
        // Below 0.2 the series converges too slowly to sum, and Q is 1 to double precision well above that.
        if (lambda < 0.2)
        {
            return 1;
        }

        var sum = 0.0;
        var sign = 1.0;
        for (var j = 1; j <= 100; j++)
        {
            var term = sign * Math.Exp(-2.0 * j * j * lambda * lambda);
            sum += term;
            if (Math.Abs(term) < 1e-12 * Math.Abs(sum))
            {
                break;
            }

            sign = -sign;
        }

        return Math.Clamp(2 * sum, 0, 1);
    }

    private static long Sum(ReadOnlySpan<long> counts)
    {
        long sum = 0;
        foreach (var count in counts)
        {
            sum += count;
        }

        return sum;
    }
}
