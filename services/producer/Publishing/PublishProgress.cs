namespace Mesh.Producer.Publishing;

/// <summary>What the run has done so far; delivery callbacks update it from librdkafka's thread.</summary>
internal sealed class PublishProgress
{
    private readonly TaskCompletionSource<PublishSummary> _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _recordsSent;
    private long _recordsAcked;
    private long _recordsFailed;
    private long _labelsSent;
    private long _labelsAcked;
    private long _labelsFailed;

    /// <summary>Completes when the run ended, with its summary; in-process hosts (tests, tools) await it.</summary>
    public Task<PublishSummary> Completion => _completion.Task;

    public long RecordsSent => Interlocked.Read(ref _recordsSent);

    public long RecordsAcked => Interlocked.Read(ref _recordsAcked);

    public long RecordsFailed => Interlocked.Read(ref _recordsFailed);

    public long LabelsSent => Interlocked.Read(ref _labelsSent);

    public long LabelsAcked => Interlocked.Read(ref _labelsAcked);

    public long LabelsFailed => Interlocked.Read(ref _labelsFailed);

    public void RecordSent() => Interlocked.Increment(ref _recordsSent);

    public void RecordAcked() => Interlocked.Increment(ref _recordsAcked);

    public void RecordFailed() => Interlocked.Increment(ref _recordsFailed);

    public void LabelSent() => Interlocked.Increment(ref _labelsSent);

    public void LabelAcked() => Interlocked.Increment(ref _labelsAcked);

    public void LabelFailed() => Interlocked.Increment(ref _labelsFailed);

    public PublishSummary Summarize(int badRows, bool interrupted, TimeSpan elapsed) =>
        new(RecordsSent, RecordsAcked, RecordsFailed, LabelsSent, LabelsAcked, LabelsFailed, badRows, interrupted, elapsed);

    public void Complete(PublishSummary summary) => _completion.TrySetResult(summary);

    public void Fail(Exception exception) => _completion.TrySetException(exception);
}
