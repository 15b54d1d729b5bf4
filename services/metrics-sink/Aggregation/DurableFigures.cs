using System.Globalization;

namespace Mesh.MetricsSink.Aggregation;

/// <summary>
/// How the durable join state names the figures it keeps in Redis, in one hash beside the request hashes
/// (<c>{MetricsSink:JoinKeyPrefix}␟aggregates</c>): <c>g␟{figure}</c> for the sink-wide counts and
/// <c>a␟{experiment}␟{arm}␟{0|1 shadow}␟{figure}</c> for each arm's totals (<c>m</c> and <c>v</c> its latest model
/// and version, <c>b{n}</c> its latency histogram's buckets, <c>o:{outcome}:{n|s|q|p|r}</c> a declared outcome's count,
/// sum, sum of squares, values above zero and reward sum). Sums are added with HINCRBYFLOAT, so every value is a number.
/// </summary>
internal static class DurableFigures
{
    public const string Predictions = "n";
    public const string Labels = "l";
    public const string Fallbacks = "f";
    public const string FallbacksElsewhere = "fe";
    public const string Joined = "j";
    public const string Correct = "c";
    public const string LogLossCount = "lc";
    public const string LogLossSum = "ls";
    public const string NumericCount = "nc";
    public const string SquaredErrorSum = "se";
    public const string AbsoluteErrorSum = "ae";
    public const string ShadowCompared = "sc";
    public const string ShadowAgreed = "sa";
    public const string UnmatchedLabels = "u";
    public const string Model = "m";
    public const string Version = "v";

    private const char Separator = '\u001f';

    /// <summary>The hash's key: after the prefix, a unit separator no request id of ours holds.</summary>
    public static string Key(string prefix) => prefix + Separator + "aggregates";

    public static string Global(string figure) => "g" + Separator + figure;

    public static string Arm(ArmStatistics arm, string figure) =>
        string.Concat("a" + Separator, arm.Experiment, Separator + arm.Arm + Separator, arm.Shadow ? "1" : "0", Separator + figure);

    /// <summary>The histogram bucket a <c>b{n}</c> figure names, or null.</summary>
    public static int? LatencyBucket(string figure) =>
        figure.Length > 1 && figure[0] == 'b' && int.TryParse(figure.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var bucket) ? bucket : null;

    /// <summary>The increments one arm's journal stands for.</summary>
    public static void Add(ArmStatistics arm, IReadOnlyList<ArmEvent> events, List<AggregateWrite> writes)
    {
        foreach (var e in events)
        {
            switch (e.Kind)
            {
                case ArmEventKind.Prediction:
                    writes.Add(new(Arm(arm, Predictions), 1));
                    if (e.Flag)
                    {
                        writes.Add(new(Arm(arm, Fallbacks), 1));
                    }

                    writes.Add(new(Arm(arm, "b" + LatencyHistogram.BucketOf(LatencyHistogram.Clamp(e.LatencyMs)).ToString(CultureInfo.InvariantCulture)), 1));
                    writes.Add(new(Arm(arm, Model), 0, arm.Model));
                    writes.Add(new(Arm(arm, Version), 0, arm.Version));
                    break;
                case ArmEventKind.Join:
                    writes.Add(new(Arm(arm, Joined), 1));
                    if (e.Score.Correct)
                    {
                        writes.Add(new(Arm(arm, Correct), 1));
                    }

                    if (e.Score.LogLoss is { } logLoss)
                    {
                        writes.Add(new(Arm(arm, LogLossCount), 1));
                        writes.Add(new(Arm(arm, LogLossSum), logLoss));
                    }

                    if (e.Score.Error is { } error)
                    {
                        writes.Add(new(Arm(arm, NumericCount), 1));
                        writes.Add(new(Arm(arm, SquaredErrorSum), error * error));
                        writes.Add(new(Arm(arm, AbsoluteErrorSum), Math.Abs(error)));
                    }

                    AddOutcomes(arm, e.Score, writes);

                    break;
                case ArmEventKind.AnsweredElsewhere:
                    writes.Add(new(Arm(arm, Fallbacks), 1));
                    writes.Add(new(Arm(arm, FallbacksElsewhere), 1));
                    break;
                case ArmEventKind.ShadowComparison:
                    writes.Add(new(Arm(arm, ShadowCompared), 1));
                    if (e.Flag)
                    {
                        writes.Add(new(Arm(arm, ShadowAgreed), 1));
                    }

                    break;
            }
        }
    }

    /// <summary>The figure name of one part of a declared outcome's tally.</summary>
    public static string Outcome(string name, char part) => string.Concat("o:", name, ":", part.ToString());

    /// <summary>The outcome and part an <c>o:{name}:{part}</c> figure names, or null.</summary>
    public static (string Name, char Part)? ParseOutcome(string figure) =>
        figure.Length > 4 && figure.StartsWith("o:", StringComparison.Ordinal) && figure[^2] == ':' ? (figure[2..^2], figure[^1]) : null;

    private static void AddOutcomes(ArmStatistics arm, JoinScore score, List<AggregateWrite> writes)
    {
        if (score.Outcomes is not { } values)
        {
            return;
        }

        var declared = arm.Total.Declared;
        for (var i = 0; i < values.Length && i < declared.Count; i++)
        {
            var value = values[i];
            if (double.IsNaN(value))
            {
                continue;
            }

            var name = declared[i].Name;
            writes.Add(new(Arm(arm, Outcome(name, 'n')), 1));
            writes.Add(new(Arm(arm, Outcome(name, 's')), value));
            writes.Add(new(Arm(arm, Outcome(name, 'q')), value * value));
            if (value > 0)
            {
                writes.Add(new(Arm(arm, Outcome(name, 'p')), 1));
            }

            writes.Add(new(Arm(arm, Outcome(name, 'r')), declared[i].Reward(value)));
        }
    }

    /// <summary>Splits an arm field into its arm and figure; false for a field that is not one.</summary>
    public static bool TryParseArm(string field, out (string Experiment, string Arm, bool Shadow, string Figure) parsed)
    {
        parsed = default;
        var parts = field.Split(Separator);
        if (parts.Length != 5 || parts[0] != "a")
        {
            return false;
        }

        parsed = (parts[1], parts[2], parts[3] == "1", parts[4]);
        return true;
    }

    /// <summary>The figure a global field names, or null.</summary>
    public static string? GlobalFigure(string field) =>
        field.Length > 2 && field[0] == 'g' && field[1] == Separator ? field[2..] : null;
}
