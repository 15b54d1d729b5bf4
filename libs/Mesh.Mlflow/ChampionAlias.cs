namespace Mesh.Mlflow;

/// <summary>What a move of a champion alias did: the version it pointed at before (null: none) and whether it moved.</summary>
/// <param name="Previous">The version the alias pointed at before, or null when the model had no such alias.</param>
/// <param name="Current">The version it points at now.</param>
/// <param name="Moved">False when the alias already pointed at the version.</param>
public sealed record AliasMove(string? Previous, string Current, bool Moved);

/// <summary>
/// Moves a registered model's alias (<c>@champion</c>) and keeps the way back: the version it moves to is
/// tagged <see cref="PromotedFromTag"/> with the version it moved from, so <see cref="UndoAsync"/> can move it back.
/// </summary>
public sealed class ChampionAlias(MlflowClient client)
{
    /// <summary>On a promoted version: the version the alias pointed at before (empty: there was none).</summary>
    public const string PromotedFromTag = "mesh.promoted_from";

    /// <summary>On a version whose promotion was undone: when, and back to which version.</summary>
    public const string UndoneTag = "mesh.promotion_undone";

    private readonly MlflowTrackingClient _registry = new(client);

    /// <summary>The version <paramref name="alias"/> points at, or null when the model has no such alias.</summary>
    public async Task<string?> CurrentAsync(string name, string alias, CancellationToken cancellationToken = default)
    {
        try
        {
            return (await client.GetModelVersionByAliasAsync(name, alias, cancellationToken).ConfigureAwait(false)).Version;
        }
        catch (MlflowResourceNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Points <paramref name="alias"/> at <paramref name="version"/>, tagging the version with where it came from and <paramref name="tags"/>.</summary>
    public async Task<AliasMove> MoveAsync(string name, string alias, string version, IReadOnlyList<MlflowKeyValue> tags, CancellationToken cancellationToken = default)
    {
        var previous = await CurrentAsync(name, alias, cancellationToken).ConfigureAwait(false);
        if (previous == version)
        {
            return new AliasMove(previous, version, Moved: false);
        }

        // The way back is written before the move, so a move is never left without it.
        await _registry.SetModelVersionTagAsync(name, version, PromotedFromTag, previous ?? "", cancellationToken).ConfigureAwait(false);
        foreach (var tag in tags)
        {
            await _registry.SetModelVersionTagAsync(name, version, tag.Key, tag.Value, cancellationToken).ConfigureAwait(false);
        }

        await _registry.SetModelAliasAsync(name, alias, version, cancellationToken).ConfigureAwait(false);
        return new AliasMove(previous, version, Moved: true);
    }

    /// <summary>Moves <paramref name="alias"/> back to the version its current version was promoted from.</summary>
    /// <exception cref="InvalidOperationException">No such alias, its version was not promoted by a move, or it was the first champion.</exception>
    public async Task<AliasMove> UndoAsync(string name, string alias, string note, CancellationToken cancellationToken = default)
    {
        var current = await CurrentAsync(name, alias, cancellationToken).ConfigureAwait(false)
            ?? throw new InvalidOperationException($"{name} has no @{alias}: nothing to undo.");
        var version = await client.GetModelVersionAsync(name, current, cancellationToken).ConfigureAwait(false);
        var from = version.Tags?.LastOrDefault(t => t.Key == PromotedFromTag)?.Value
            ?? throw new InvalidOperationException($"{name} v{current} (@{alias}) has no {PromotedFromTag} tag: it was not promoted by mesh, so there is no version to go back to.");
        if (from.Length == 0)
        {
            throw new InvalidOperationException($"{name} v{current} was the first @{alias}: there is no earlier version to go back to (delete the alias in MLflow to serve none).");
        }

        await _registry.SetModelVersionTagAsync(name, current, UndoneTag, $"{note}; @{alias} moved back to v{from}", cancellationToken).ConfigureAwait(false);
        await _registry.SetModelAliasAsync(name, alias, from, cancellationToken).ConfigureAwait(false);
        return new AliasMove(current, from, Moved: true);
    }
}
