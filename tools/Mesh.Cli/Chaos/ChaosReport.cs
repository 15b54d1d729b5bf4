using System.Globalization;
using Mesh.Cli.Demo;

namespace Mesh.Cli.Chaos;

/// <summary>
/// The outcome of a chaos run: kills per service, what the independent reader found on the topics, and what the
/// sink's Redis-backed totals say. It passes only when no record was lost and every pair was counted exactly once.
/// </summary>
internal sealed class ChaosReport(int records, TopicAuditResult audit, DemoSummary? summary, IReadOnlyDictionary<string, int> kills, ChaosTimeline timeline, TimeSpan elapsed)
{
    private readonly long _armPredictions = PrimaryArms(summary).Sum(a => a.Predictions);
    private readonly long _armJoined = PrimaryArms(summary).Sum(a => a.Joined);

    public bool Passed => Problems().Count == 0;

    public void Print(TextWriter writer)
    {
        var rows = new List<(string What, string Value)>();
        foreach (var (service, count) in kills.OrderBy(k => k.Key, StringComparer.Ordinal))
        {
            rows.Add(($"SIGKILLs {service}", Number(count)));
        }

        rows.Add(("SIGKILLs total", Number(kills.Values.Sum())));
        rows.Add(("records sent (distinct request ids on features)", Number(audit.Sent)));
        rows.Add(("records predicted (distinct request ids on predictions)", Number(audit.Predicted)));
        rows.Add(("dead-lettered instead of predicted", Number(audit.DeadLettered)));
        rows.Add(("lost records (neither predicted nor dead-lettered)", Number(audit.Lost)));
        rows.Add(("predictions of unknown request ids", Number(audit.Unknown)));
        rows.Add(("prediction records", Number(audit.PredictionRecords)));
        rows.Add(("duplicates on the predictions topic", Number(audit.Duplicates)));
        rows.Add(("longest time without predictions", $"{audit.LongestGap.Length.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture)} s"));
        rows.AddRange(timeline.Describe(audit.LongestGap));
        rows.AddRange(timeline.ByVictim(audit.Gaps));
        rows.Add(("sink: predictions counted", summary is null ? "no summary" : Number(summary.Predictions)));
        rows.Add(("sink: pairs joined", summary is null ? "no summary" : Number(summary.Joined)));
        rows.Add(("sink: per-arm predictions (sum)", Number(_armPredictions)));
        rows.Add(("sink: per-arm joined (sum)", Number(_armJoined)));
        rows.Add(("sink: duplicate predictions seen", summary is null ? "no summary" : Number(summary.DuplicatePredictions)));
        rows.Add(("elapsed", $"{elapsed.TotalSeconds.ToString("F0", CultureInfo.InvariantCulture)} s"));

        var width = rows.Max(r => r.What.Length);
        var valueWidth = rows.Max(r => r.Value.Length);
        var rule = "+" + new string('-', width + 2) + "+" + new string('-', valueWidth + 2) + "+";
        writer.WriteLine(rule);
        foreach (var (what, value) in rows)
        {
            writer.WriteLine($"| {what.PadRight(width)} | {value.PadLeft(valueWidth)} |");
        }

        writer.WriteLine(rule);
        var problems = Problems();
        writer.WriteLine(problems.Count == 0
            ? $"PASS: all {Number(records)} records predicted; every prediction joined and counted exactly once in the sink's totals."
            : "FAIL: " + string.Join("; ", problems) + ".");
    }

    private List<string> Problems()
    {
        var problems = new List<string>();
        if (audit.Sent != records)
        {
            problems.Add($"{Number(audit.Sent)} of {Number(records)} records reached the features topic");
        }

        if (audit.DeadLettered > 0)
        {
            problems.Add($"{Number(audit.DeadLettered)} record(s) dead-lettered instead of predicted");
        }

        if (audit.Lost > 0)
        {
            problems.Add($"{Number(audit.Lost)} record(s) lost (neither predicted nor dead-lettered)");
        }

        if (audit.Unknown > 0)
        {
            problems.Add($"{Number(audit.Unknown)} prediction(s) of request ids never sent");
        }

        if (summary is null)
        {
            problems.Add("the metrics sink gave no summary");
            return problems;
        }

        // Exactly once: fewer is a loss, more is a pair counted twice.
        Check(problems, "predictions counted by the sink", summary.Predictions);
        Check(problems, "pairs joined by the sink", summary.Joined);
        Check(problems, "per-arm predictions in the sink", _armPredictions);
        Check(problems, "per-arm joined in the sink", _armJoined);
        return problems;
    }

    private void Check(List<string> problems, string what, long value)
    {
        if (value != audit.Predicted)
        {
            problems.Add($"{what}: {Number(value)}, expected {Number(audit.Predicted)}");
        }
    }

    private static IEnumerable<ArmSummary> PrimaryArms(DemoSummary? summary) =>
        summary?.Experiments.SelectMany(e => e.Arms).Where(a => !a.Shadow) ?? [];

    private static string Number(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
