using Mesh.Producer.Options;

namespace Mesh.Producer.Pacing;

/// <summary>
/// A load shape: the rate at each moment and, what the pacer needs, the records due by then (the integral of
/// the rate), in closed form so pacing never drifts however long the run. The shapes are the seed's Locust tests.
/// </summary>
internal abstract class RateProfile
{
    /// <summary>Records per second at <paramref name="seconds"/> since the start.</summary>
    public abstract double RateAt(double seconds);

    /// <summary>Records due between the start and <paramref name="seconds"/>.</summary>
    public abstract double DueBy(double seconds);

    public static RateProfile From(ProducerOptions o) => o.Profile.ToLowerInvariant() switch
    {
        "step" => new Step(o.Rate, o.StepRate, o.StepSeconds),
        "ramp" => new Ramp(o.Rate, o.PeakRate, o.RampSeconds),
        "burst" => new Burst(o.Rate, o.PeakRate, o.BurstSeconds, o.BurstEverySeconds),
        _ => new Constant(o.Rate),
    };

    /// <summary>The same rate throughout.</summary>
    internal sealed class Constant(double rate) : RateProfile
    {
        public override double RateAt(double seconds) => rate;

        public override double DueBy(double seconds) => rate * seconds;
    }

    /// <summary>Starts at <paramref name="rate"/> and adds <paramref name="increment"/> every <paramref name="stepSeconds"/>.</summary>
    internal sealed class Step(double rate, double increment, double stepSeconds) : RateProfile
    {
        public override double RateAt(double seconds) => rate + (increment * Math.Floor(seconds / stepSeconds));

        public override double DueBy(double seconds)
        {
            var k = Math.Floor(seconds / stepSeconds);
            // Whole steps 0..k-1 (rate + increment*i for stepSeconds each), then step k for what is left.
            return (rate * k * stepSeconds) + (increment * stepSeconds * k * (k - 1) / 2) + (RateAt(seconds) * (seconds - (k * stepSeconds)));
        }
    }

    /// <summary>Linear from <paramref name="from"/> to <paramref name="to"/> over <paramref name="rampSeconds"/>, then holds.</summary>
    internal sealed class Ramp(double from, double to, double rampSeconds) : RateProfile
    {
        public override double RateAt(double seconds) => seconds >= rampSeconds ? to : from + ((to - from) * seconds / rampSeconds);

        public override double DueBy(double seconds)
        {
            var ramping = Math.Min(seconds, rampSeconds);
            var during = (from * ramping) + ((to - from) * ramping * ramping / (2 * rampSeconds));
            return during + (to * Math.Max(0, seconds - rampSeconds));
        }
    }

    /// <summary><paramref name="peak"/> for the first <paramref name="burstSeconds"/> of every <paramref name="everySeconds"/>, <paramref name="baseline"/> otherwise.</summary>
    internal sealed class Burst(double baseline, double peak, double burstSeconds, double everySeconds) : RateProfile
    {
        public override double RateAt(double seconds) => seconds % everySeconds < burstSeconds ? peak : baseline;

        public override double DueBy(double seconds)
        {
            var periods = Math.Floor(seconds / everySeconds);
            var into = seconds - (periods * everySeconds);
            var perPeriod = (peak * burstSeconds) + (baseline * (everySeconds - burstSeconds));
            var partial = into < burstSeconds ? peak * into : (peak * burstSeconds) + (baseline * (into - burstSeconds));
            return (periods * perPeriod) + partial;
        }
    }
}
