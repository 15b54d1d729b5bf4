namespace Mesh.Sampling;

/// <summary>
/// Draws from Beta(a, b) as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b), the gammas by Marsaglia and Tsang's squeeze
/// method (ACM TOMS 26(3), 2000). Thompson sampling in the router and its replay in <c>mesh evaluate-policy</c> both
/// draw through this one type.
/// </summary>
public static class BetaSampler
{
    /// <summary>One draw from Beta(<paramref name="a"/>, <paramref name="b"/>); <paramref name="random"/> belongs to the caller's thread.</summary>
    public static double Sample(Random random, double a, double b)
    {
        var x = Gamma(random, a);
        var y = Gamma(random, b);
        return x / (x + y);
    }

    /// <summary>One draw from Gamma(<paramref name="shape"/>, 1), for any shape above 0.</summary>
    public static double Gamma(Random random, double shape)
    {
        if (shape < 1)
        {
            // Gamma(k) = Gamma(k + 1) * U^(1/k) for k < 1.
            return Gamma(random, shape + 1) * Math.Pow(random.NextDouble(), 1 / shape);
        }

        var d = shape - (1.0 / 3);
        var c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double x, v;
            do
            {
                x = StandardNormal(random);
                v = 1 + (c * x);
            }
            while (v <= 0);

            v = v * v * v;
            var u = random.NextDouble();
            if (u < 1 - (0.0331 * x * x * x * x) || Math.Log(u) < (0.5 * x * x) + (d * (1 - v + Math.Log(v))))
            {
                return d * v;
            }
        }
    }

    private static double StandardNormal(Random random)
    {
        // Box-Muller; 1 - NextDouble() is in (0, 1], so the logarithm is finite.
        var u1 = 1 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }
}
