namespace Mesh.Mlflow;

/// <summary>How a model URI names its model.</summary>
public enum MlflowModelUriKind
{
    /// <summary><c>models:/&lt;name&gt;@&lt;alias&gt;</c>: whatever version the alias points at, which can move.</summary>
    Alias,

    /// <summary><c>models:/&lt;name&gt;/&lt;version&gt;</c>: one fixed version.</summary>
    Version,

    /// <summary><c>runs:/&lt;run-id&gt;/&lt;path&gt;</c>: a model logged by a run, not necessarily registered.</summary>
    Run,

    /// <summary><c>models:/&lt;name&gt;/latest</c>: the highest version, which moves when a version is registered.</summary>
    Latest,

    /// <summary><c>models:/m-&lt;model-id&gt;</c>: an MLflow 3 logged model, not necessarily registered.</summary>
    LoggedModel,
}

/// <summary>An MLflow model URI, as MLflow's own clients accept it.</summary>
public sealed record MlflowModelUri(MlflowModelUriKind Kind, string Name, string? Alias, string? Version, string? RunId, string? ArtifactPath)
{
    /// <summary>The URI as written.</summary>
    public string Text { get; init; } = "";

    /// <summary>Parses <c>models:/name@alias</c>, <c>models:/name/version</c> or <c>runs:/run-id/path</c>.</summary>
    public static bool TryParse(string? text, out MlflowModelUri? uri, out string error)
    {
        uri = null;
        error = "";
        var value = text?.Trim() ?? "";
        if (value.StartsWith("models:/", StringComparison.Ordinal))
        {
            var rest = value["models:/".Length..].Trim('/');
            var at = rest.LastIndexOf('@');
            if (at > 0 && !rest.Contains('/'))
            {
                var alias = rest[(at + 1)..];
                if (alias.Length > 0)
                {
                    uri = new MlflowModelUri(MlflowModelUriKind.Alias, rest[..at], alias, null, null, null) { Text = value };
                    return true;
                }
            }

            var slash = rest.LastIndexOf('/');
            if (slash > 0 && long.TryParse(rest[(slash + 1)..], out var number) && number > 0)
            {
                uri = new MlflowModelUri(MlflowModelUriKind.Version, rest[..slash], null, rest[(slash + 1)..], null, null) { Text = value };
                return true;
            }

            if (slash > 0 && rest[(slash + 1)..] == "latest")
            {
                uri = new MlflowModelUri(MlflowModelUriKind.Latest, rest[..slash], null, null, null, null) { Text = value };
                return true;
            }

            // MLflow 3 names a logged model by its id alone; a registered model always needs a version or an alias.
            if (slash < 0 && at < 0 && rest.StartsWith("m-", StringComparison.Ordinal) && rest.Length > 2)
            {
                uri = new MlflowModelUri(MlflowModelUriKind.LoggedModel, "", null, rest, null, null) { Text = value };
                return true;
            }

            error = $"'{value}' is not models:/<name>@<alias>, models:/<name>/<version>, models:/<name>/latest or models:/m-<model-id>";
            return false;
        }

        if (value.StartsWith("runs:/", StringComparison.Ordinal))
        {
            var rest = value["runs:/".Length..].Trim('/');
            var slash = rest.IndexOf('/');
            if (slash > 0 && slash < rest.Length - 1)
            {
                uri = new MlflowModelUri(MlflowModelUriKind.Run, "", null, null, rest[..slash], rest[(slash + 1)..]) { Text = value };
                return true;
            }

            error = $"'{value}' is not runs:/<run-id>/<path>";
            return false;
        }

        error = $"'{value}' is not an MLflow model URI (models:/<name>@<alias>, models:/<name>/<version>, models:/<name>/latest, models:/m-<model-id>, runs:/<run-id>/<path>)";
        return false;
    }

    /// <summary>
    /// Finds the version and the artifact URI of its files: an alias through <c>registered-models/alias</c>, a
    /// version through <c>model-versions/get</c>, latest through <c>registered-models/get-latest-versions</c>, then
    /// <c>model-versions/get-download-uri</c>; a run through <c>runs/get</c> (its version is the run id); a logged
    /// model through <c>logged-models/{id}</c> (its version is the model id).
    /// </summary>
    public async Task<ResolvedModel> ResolveAsync(MlflowClient client, CancellationToken cancellationToken = default)
    {
        switch (Kind)
        {
            case MlflowModelUriKind.Alias:
                return await ResolveVersionAsync(client, await client.GetModelVersionByAliasAsync(Name, Alias!, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

            case MlflowModelUriKind.Version:
                return await ResolveVersionAsync(client, await client.GetModelVersionAsync(Name, Version!, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

            case MlflowModelUriKind.Latest:
                return await ResolveVersionAsync(client, await client.GetLatestModelVersionAsync(Name, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);

            case MlflowModelUriKind.LoggedModel:
            {
                var uri = await client.GetLoggedModelArtifactUriAsync(Version!, cancellationToken).ConfigureAwait(false);
                return new ResolvedModel(Name, Version!, uri) { ContentId = Text };
            }

            default:
            {
                var root = await client.GetRunArtifactUriAsync(RunId!, cancellationToken).ConfigureAwait(false);
                return new ResolvedModel(Name, RunId!, root.TrimEnd('/') + "/" + ArtifactPath) { ContentId = Text };
            }
        }
    }

    private async Task<ResolvedModel> ResolveVersionAsync(MlflowClient client, ModelVersion version, CancellationToken cancellationToken)
    {
        var uri = await client.GetModelVersionDownloadUriAsync(Name, version.Version, cancellationToken).ConfigureAwait(false);
        var artifacts = await client.ResolveArtifactUriAsync(uri, cancellationToken).ConfigureAwait(false);
        // A version number is reused when a model is deleted and registered again: what it holds is named by
        // when it was created and from where.
        var contentId = $"{version.CreationTimestamp}|{version.RunId}|{version.Source ?? uri}";
        return new ResolvedModel(Name, version.Version, artifacts) { ContentId = contentId, RunId = version.RunId, Source = version.Source };
    }
}

/// <summary>A model URI resolved to a version and the artifact URI of its files.</summary>
public sealed record ResolvedModel(string Name, string Version, string ArtifactUri)
{
    /// <summary>What names the files' content: the same for the same files, different when a version number is reused.</summary>
    public string ContentId { get; init; } = "";

    /// <summary>The run that logged a registered version, when MLflow says.</summary>
    public string? RunId { get; init; }

    /// <summary>A registered version's source as MLflow holds it (<c>runs:/…</c>, <c>models:/m-…</c>, a storage URI).</summary>
    public string? Source { get; init; }
}
