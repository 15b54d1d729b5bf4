using System.Text.Json.Serialization;

namespace Mesh.Mlflow;

/// <summary>A registered model version (<c>ModelVersion</c> in the MLflow REST API).</summary>
public sealed class ModelVersion
{
    /// <summary>The registered model's name.</summary>
    [JsonPropertyName("name")]
    public string Name { get; set; } = "";

    /// <summary>The version number, as MLflow sends it (a string).</summary>
    [JsonPropertyName("version")]
    public string Version { get; set; } = "";

    /// <summary>Where the version's files came from (a run's artifact path or a model URI).</summary>
    [JsonPropertyName("source")]
    public string? Source { get; set; }

    /// <summary>The run that logged it, when there is one.</summary>
    [JsonPropertyName("run_id")]
    public string? RunId { get; set; }

    /// <summary><c>READY</c> once the files are in place (<c>PENDING_REGISTRATION</c>, <c>FAILED_REGISTRATION</c> otherwise).</summary>
    [JsonPropertyName("status")]
    public string? Status { get; set; }

    /// <summary>When the version was registered (ms since the epoch): tells a re-created version 1 from the deleted one.</summary>
    [JsonPropertyName("creation_timestamp")]
    public long? CreationTimestamp { get; set; }

    /// <summary>The version's tags.</summary>
    [JsonPropertyName("tags")]
    public List<MlflowKeyValue>? Tags { get; set; }

    /// <summary>Aliases pointing at this version.</summary>
    [JsonPropertyName("aliases")]
    public List<string>? Aliases { get; set; }
}

/// <summary>One entry of an artifact listing.</summary>
public sealed class ArtifactFile
{
    /// <summary>The path MLflow returned (through the artifact proxy: the name inside the listed folder).</summary>
    [JsonPropertyName("path")]
    public string Path { get; set; } = "";

    /// <summary>Whether it is a folder.</summary>
    [JsonPropertyName("is_dir")]
    public bool IsDir { get; set; }

    /// <summary>Size in bytes, for files.</summary>
    [JsonPropertyName("file_size")]
    public long? FileSize { get; set; }
}

internal sealed class ModelVersionResponse
{
    [JsonPropertyName("model_version")]
    public ModelVersion? ModelVersion { get; set; }
}

internal sealed class ModelVersionsResponse
{
    [JsonPropertyName("model_versions")]
    public List<ModelVersion>? ModelVersions { get; set; }
}

internal sealed class LoggedModelResponse
{
    [JsonPropertyName("model")]
    public LoggedModelEnvelope? Model { get; set; }
}

internal sealed class LoggedModelEnvelope
{
    [JsonPropertyName("info")]
    public RunInfoBody? Info { get; set; }
}

internal sealed class DownloadUriResponse
{
    [JsonPropertyName("artifact_uri")]
    public string? ArtifactUri { get; set; }
}

internal sealed class ListArtifactsResponse
{
    [JsonPropertyName("files")]
    public List<ArtifactFile>? Files { get; set; }
}

internal sealed class RunResponse
{
    [JsonPropertyName("run")]
    public RunEnvelope? Run { get; set; }
}

internal sealed class RunEnvelope
{
    [JsonPropertyName("info")]
    public RunInfoBody? Info { get; set; }
}

internal sealed class RunInfoBody
{
    [JsonPropertyName("artifact_uri")]
    public string? ArtifactUri { get; set; }
}

internal sealed class ErrorResponse
{
    [JsonPropertyName("error_code")]
    public string? ErrorCode { get; set; }

    [JsonPropertyName("message")]
    public string? Message { get; set; }
}
