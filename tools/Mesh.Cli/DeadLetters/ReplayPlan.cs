namespace Mesh.Cli.DeadLetters;

/// <summary>What a replay will send and what it leaves out, with why, before anything is sent.</summary>
internal sealed record ReplayPlan(
    IReadOnlyList<ReplayItem> Items,
    int SkippedForAttempts,
    int SkippedAsPredicted,
    int SkippedAsSuperseded,
    IReadOnlyList<(DeadLetterEntry Entry, string Reason)> NotSendable);
