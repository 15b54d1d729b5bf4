namespace Mesh.Router.Experiments;

/// <summary>
/// What a reload did: whether it applied the file (false when the text had not changed), and which weights set
/// through the admin API it kept (<c>experiment/arm=weight</c>) because the file's weight for that arm had not changed.
/// </summary>
internal readonly record struct ReloadOutcome(bool Applied, IReadOnlyList<string> KeptWeightOverrides);
