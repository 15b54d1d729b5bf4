using System.ComponentModel.DataAnnotations;

namespace Mesh.Router.Options;

/// <summary>
/// The router's recent-request-id window (<c>Router:Deduplication</c>): a request id an experiment has already
/// predicted is not predicted again (a redelivery, or a replay of a record that was predicted). The window lives in
/// the process: a restarted router starts with an empty one.
/// </summary>
internal sealed class DeduplicationOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>The most request ids remembered per experiment (about 100 bytes each with a GUID-sized id).</summary>
    [Range(1, 10_000_000, ErrorMessage = "Router:Deduplication:MaxRequestIds must be between 1 and 10000000.")]
    public int MaxRequestIds { get; set; } = 100_000;

    /// <summary>How long a request id is remembered at most; 0 bounds the window by count only.</summary>
    [Range(0, 10_080, ErrorMessage = "Router:Deduplication:MaxAgeMinutes must be between 0 (no age bound) and 10080.")]
    public int MaxAgeMinutes { get; set; } = 60;
}
