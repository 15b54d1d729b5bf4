namespace Mesh.Cli.DeadLetters;

/// <summary>How the chosen dead letters are to be sent back.</summary>
/// <param name="To">A topic to send every record to instead of its source topic.</param>
/// <param name="FixUps">Fix-ups applied, in order, to each record (FeatureRecords only).</param>
/// <param name="MaxAttempts">A dead letter whose failed attempt reached this is not sent again.</param>
/// <param name="Predicted">Request ids already on the predictions topic (null: not checked).</param>
internal sealed record ReplayRules(string? To, IReadOnlyList<FeatureFixUp> FixUps, int MaxAttempts, IReadOnlySet<string>? Predicted);
