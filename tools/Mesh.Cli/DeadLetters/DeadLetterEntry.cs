using Mesh.Contracts.V1;

namespace Mesh.Cli.DeadLetters;

/// <summary>A dead letter and where it sits in the dead-letter topic (what a replay header points back to).</summary>
internal sealed record DeadLetterEntry(string Topic, int Partition, long Offset, DateTime RecordTime, DeadLetter Letter)
{
    /// <summary>When the service gave up on the record: the dead letter's own time, else the Kafka record's.</summary>
    public DateTime Time => Letter.Time is { } time ? time.ToDateTime() : RecordTime;

    /// <summary>The reason as one line: error class and message.</summary>
    public string Reason => Letter.ErrorMessage.Length == 0 ? Letter.ErrorClass : $"{Letter.ErrorClass}: {Letter.ErrorMessage}";

    /// <summary>The attempt that failed; letters written before attempts were counted say 0, which was the first.</summary>
    public int Attempt => Math.Max(1, Letter.Attempt);

    public string Coordinates => $"{Topic}/{Partition}/{Offset}";
}
