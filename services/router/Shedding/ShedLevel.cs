namespace Mesh.Router.Shedding;

/// <summary>What the router sheds under consumer lag, in its fixed order: each level sheds what the one before does, and more.</summary>
internal enum ShedLevel
{
    None = 0,

    /// <summary>Shadows get no copies.</summary>
    Shadows = 1,

    /// <summary>Shadows, and the records a challenger would get go to the experiment's fallback arm (the champion).</summary>
    Challengers = 2,
}
