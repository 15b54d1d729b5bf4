using Mesh.Router.Options;

namespace Mesh.Router.Shedding;

/// <summary>
/// The levels' enter and exit lags, with hysteresis: a level is entered at its enter lag and left only once the lag
/// is under its exit lag, which is lower, so a lag hovering at a threshold does not flap the level.
/// </summary>
internal sealed record ShedThresholds(long ShadowsEnter, long ShadowsExit, long ChallengersEnter, long ChallengersExit)
{
    public static ShedThresholds From(SheddingOptions options) =>
        new(options.ShadowsEnterLag, options.ShadowsExitLag, options.ChallengersEnterLag, options.ChallengersExitLag);

    /// <summary>One step from <paramref name="level"/> at <paramref name="lag"/>: up or down one level, or the same level when it holds.</summary>
    public ShedLevel Step(ShedLevel level, long lag) => level switch
    {
        ShedLevel.None when lag >= ShadowsEnter => ShedLevel.Shadows,
        ShedLevel.Shadows when lag >= ChallengersEnter => ShedLevel.Challengers,
        ShedLevel.Shadows when lag < ShadowsExit => ShedLevel.None,
        ShedLevel.Challengers when lag < ChallengersExit => ShedLevel.Shadows,
        _ => level,
    };

    public (long Enter, long Exit) Of(ShedLevel level) => level == ShedLevel.Challengers ? (ChallengersEnter, ChallengersExit) : (ShadowsEnter, ShadowsExit);
}
