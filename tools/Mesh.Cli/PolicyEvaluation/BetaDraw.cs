namespace Mesh.Cli.PolicyEvaluation;

/// <summary>
/// Draws from Beta(a, b) for a, b ≥ 1 as X / (X + Y) with X ~ Gamma(a), Y ~ Gamma(b), the gammas by Marsaglia and
/// Tsang's squeeze method (ACM TOMS 26(3), 2000), which needs shapes of at least one: Beta(1 + s, 1 + f) always has them.
/// </summary>
internal static class BetaDraw
{
    public static double Next(Random random, double a, double b)
    {
        var x = Gamma(random, a);
        var y = Gamma(random, b);
        return x / (x + y);
    }

    private static double Gamma(Random random, double shape)
    {
        var d = shape - (1.0 / 3.0);
        var c = 1.0 / Math.Sqrt(9 * d);
        while (true)
        {
            double z, v;
            do
            {
                z = StandardNormal(random);
                v = 1 + (c * z);
            }
            while (v <= 0);

            v = v * v * v;
            var u = 1 - random.NextDouble();
            if (Math.Log(u) < (0.5 * z * z) + d - (d * v) + (d * Math.Log(v)))
            {
                return d * v;
            }
        }
    }

    // Box–Muller; one of the pair is enough here.
    private static double StandardNormal(Random random) =>
        Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
