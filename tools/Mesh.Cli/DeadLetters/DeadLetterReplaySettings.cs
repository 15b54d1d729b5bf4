namespace Mesh.Cli.DeadLetters;

/// <summary>What <c>mesh dead-letters replay</c> reads, chooses and sends; <c>SkipPredictedTopic</c> null means not checked.</summary>
internal sealed record DeadLetterReplaySettings(
    string BootstrapServers,
    string Topic,
    DeadLetterFilter Filter,
    ReplayRules Rules,
    bool DryRun,
    string? SkipPredictedTopic);
