using System.ComponentModel.DataAnnotations;

namespace Mesh.Router.Options;

/// <summary>
/// Lag-aware priority shedding (<c>Router:Shedding</c>): when the router's consumer lag (summed over its partitions)
/// reaches an enter threshold it sheds the next level, and restores it once the lag falls under that level's lower
/// exit threshold. Level 1 sheds shadows; level 2 also sends the records a challenger would get to the fallback arm
/// (the champion). The lag is librdkafka's committed lag, so it moves in steps of the statistics interval
/// (<c>Kafka:Health:StatisticsIntervalMs</c>) and the auto-commit interval.
/// </summary>
internal sealed class SheddingOptions
{
    public bool Enabled { get; set; }

    [Range(1, long.MaxValue, ErrorMessage = "Router:Shedding:ShadowsEnterLag must be at least 1.")]
    public long ShadowsEnterLag { get; set; } = 10_000;

    [Range(0, long.MaxValue, ErrorMessage = "Router:Shedding:ShadowsExitLag must not be negative.")]
    public long ShadowsExitLag { get; set; } = 2_000;

    [Range(1, long.MaxValue, ErrorMessage = "Router:Shedding:ChallengersEnterLag must be at least 1.")]
    public long ChallengersEnterLag { get; set; } = 50_000;

    [Range(0, long.MaxValue, ErrorMessage = "Router:Shedding:ChallengersExitLag must not be negative.")]
    public long ChallengersExitLag { get; set; } = 20_000;

    /// <summary>The thresholds' order, which the attributes cannot say: each exit under its enter, level 2 past level 1.</summary>
    public IEnumerable<string> OrderErrors()
    {
        if (ShadowsExitLag >= ShadowsEnterLag)
        {
            yield return $"Router:Shedding:ShadowsExitLag ({ShadowsExitLag}) must be less than Router:Shedding:ShadowsEnterLag ({ShadowsEnterLag}).";
        }

        if (ChallengersExitLag >= ChallengersEnterLag)
        {
            yield return $"Router:Shedding:ChallengersExitLag ({ChallengersExitLag}) must be less than Router:Shedding:ChallengersEnterLag ({ChallengersEnterLag}).";
        }

        if (ChallengersEnterLag <= ShadowsEnterLag)
        {
            yield return $"Router:Shedding:ChallengersEnterLag ({ChallengersEnterLag}) must be greater than Router:Shedding:ShadowsEnterLag ({ShadowsEnterLag}): shadows are shed first.";
        }
    }
}
