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

            error = $"'{value}' is not models:/<name>@<alias> or models:/<name>/<version>";
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

        error = $"'{value}' is not an MLflow model URI (models:/<name>@<alias>, models:/<name>/<version>, runs:/<run-id>/<path>)";
        return false;
    }

    /// <summary>
    /// Finds the version and the artifact URI of its files: an alias through <c>registered-models/alias</c>,
    /// a version through <c>model-versions/get</c>, both then through <c>model-versions/get-download-uri</c>;
    /// a run through <c>runs/get</c> (its version is the run id).
    /// </summary>
    public async Task<ResolvedModel> ResolveAsync(MlflowClient client, CancellationToken cancellationToken = default)
    {
        switch (Kind)
        {
            case MlflowModelUriKind.Alias:
            {
                var version = await client.GetModelVersionByAliasAsync(Name, Alias!, cancellationToken).ConfigureAwait(false);
                var uri = await client.GetModelVersionDownloadUriAsync(Name, version.Version, cancellationToken).ConfigureAwait(false);
                return new ResolvedModel(Name, version.Version, uri);
            }

            case MlflowModelUriKind.Version:
            {
                var version = await client.GetModelVersionAsync(Name, Version!, cancellationToken).ConfigureAwait(false);
                var uri = await client.GetModelVersionDownloadUriAsync(Name, version.Version, cancellationToken).ConfigureAwait(false);
                return new ResolvedModel(Name, version.Version, uri);
            }

            default:
            {
                var root = await client.GetRunArtifactUriAsync(RunId!, cancellationToken).ConfigureAwait(false);
                return new ResolvedModel(Name, RunId!, root.TrimEnd('/') + "/" + ArtifactPath);
            }
        }
    }
}

/// <summary>A model URI resolved to a version and the artifact URI of its files.</summary>
public sealed record ResolvedModel(string Name, string Version, string ArtifactUri);
