namespace Mesh.Consumer.Options;

/// <summary>
/// The consumer's recent-prediction window (<c>Consumer:Deduplication</c>): a prediction whose request id was written
/// already for the same experiment (and, for a shadow, the same shadow arm) is not written again. It lives in the
/// process: a restarted consumer starts with an empty window.
/// </summary>
internal sealed class DeduplicationOptions
{
    public bool Enabled { get; set; } = true;

    /// <summary>The most request ids remembered per experiment (and shadow arm).</summary>
    public int MaxRequestIds { get; set; } = 100_000;

    /// <summary>How long a request id is remembered at most; 0 bounds the window by count only.</summary>
    public int MaxAgeMinutes { get; set; } = 60;
}
