namespace Mesh.Producer.Publishing;

/// <summary>The end of a run. It succeeded when every record and label sent was acknowledged.</summary>
internal sealed record PublishSummary(
    long RecordsSent,
    long RecordsAcked,
    long RecordsFailed,
    long LabelsSent,
    long LabelsAcked,
    long LabelsFailed,
    int BadRows,
    bool Interrupted,
    TimeSpan Elapsed)
{
    public bool Succeeded => RecordsSent > 0 && RecordsAcked == RecordsSent && LabelsAcked == LabelsSent;

    /// <summary>0 on success; 1 when something sent was not acknowledged (or nothing was sent).</summary>
    public int ExitCode => Succeeded ? 0 : 1;
}
