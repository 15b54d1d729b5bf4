using Mesh.Contracts.V1;
using Mesh.MetricsSink.Outcomes;
using Mesh.MetricsSink.Summary;

namespace Mesh.MetricsSink.Aggregation;

/// <summary>
/// The per-arm book: every experiment arm's statistics (<see cref="ArmStatistics"/>), keyed by experiment, arm and
/// shadow, and the dead letters that name no arm. Guarded by the joiner's lock.
/// </summary>
/// <param name="journal">Keep each arm's changes for the durable join state (<see cref="TakeWrites"/>).</param>
/// <param name="outcomes">What each experiment declares about its outcomes; none when null.</param>
internal sealed class ArmBook(bool journal = false, OutcomeCatalog? outcomes = null)
{
    private readonly Dictionary<(string Experiment, string Arm, bool Shadow), ArmStatistics> _arms = new();
    private readonly UnattributedDeadLetters _unattributedDeadLetters = new();

    /// <summary>The arm a prediction names, created on first sight.</summary>
    public ArmStatistics Arm(Prediction prediction) => Arm(prediction.Experiment, prediction.Arm, prediction.Shadow);

    public ArmStatistics Arm(string experiment, string arm, bool shadow)
    {
        var key = (experiment, arm, shadow);
        if (!_arms.TryGetValue(key, out var statistics))
        {
            statistics = new ArmStatistics(experiment, arm, shadow, journal, outcomes?.For(experiment).Declared);
            _arms[key] = statistics;
        }

        return statistics;
    }

    /// <summary>
    /// The arm whose figures a prediction goes to: the arm it names, unless the fallback answered for that arm
    /// (<see cref="Prediction.Fallback"/>, with the fallback's model in it): then the experiment's primary arm that
    /// serves that model, and <paramref name="owedBy"/> the arm it was assigned to. A fallback model no arm was seen
    /// serving yet stays with the named arm (a fallback there, as the Prediction says).
    /// </summary>
    public ArmStatistics Answering(Prediction prediction, out ArmStatistics? owedBy)
    {
        var named = Arm(prediction);
        owedBy = null;
        if (!prediction.Fallback || prediction.Shadow)
        {
            return named;
        }

        foreach (var candidate in _arms.Values)
        {
            if (!candidate.Shadow && !ReferenceEquals(candidate, named)
                && string.Equals(candidate.Experiment, prediction.Experiment, StringComparison.Ordinal)
                && string.Equals(candidate.Model, prediction.ModelName, StringComparison.Ordinal)
                && (prediction.ModelVersion.Length == 0 || string.Equals(candidate.Version, prediction.ModelVersion, StringComparison.Ordinal)))
            {
                owedBy = named;
                return candidate;
            }
        }

        return named;
    }

    /// <summary>
    /// Counts one of the router's dead letters: against its arm (in the arm's dead-letter rate) when it names one,
    /// else per experiment or overall.
    /// </summary>
    public void AddDeadLetter(string experiment, string arm)
    {
        if (experiment.Length == 0 || arm.Length == 0)
        {
            _unattributedDeadLetters.Record(experiment);
            return;
        }

        Arm(experiment, arm, false).RecordDeadLetter();
    }

    /// <summary>Closes the current window of every arm: the figures of the arms that saw anything in it.</summary>
    public IReadOnlyList<ArmWindow> CloseWindow()
    {
        var closed = new List<ArmWindow>(_arms.Count);
        foreach (var arm in _arms.Values.OrderBy(a => a.Experiment, StringComparer.Ordinal).ThenBy(a => a.Shadow).ThenBy(a => a.Arm, StringComparer.Ordinal))
        {
            var window = arm.CloseWindow();
            if (window.Predictions > 0 || window.Joined > 0 || window.ShadowCompared > 0 || window.DeadLetters > 0)
            {
                closed.Add(new ArmWindow(arm.Experiment, arm.Arm, arm.Shadow, arm.Model, arm.Version, arm.PolicyVersion, window));
            }
        }

        return closed;
    }

    /// <summary>Adds what every arm's journal holds to <paramref name="writes"/> (or, when null, drops it); the journals start again.</summary>
    public void TakeWrites(List<AggregateWrite>? writes)
    {
        if (!journal)
        {
            return;
        }

        foreach (var arm in _arms.Values)
        {
            var events = arm.TakeJournal();
            if (writes is not null && events.Count > 0)
            {
                DurableFigures.Add(arm, events, writes);
            }
        }
    }

    /// <summary>Adds one arm figure read back from the durable join state.</summary>
    public void Restore(string experiment, string arm, bool shadow, string figure, string value)
    {
        var statistics = Arm(experiment, arm, shadow);
        switch (figure)
        {
            case DurableFigures.Model:
                statistics.Model = value;
                break;
            case DurableFigures.Version:
                statistics.Version = value;
                break;
            default:
                if (double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var number))
                {
                    statistics.Total.Restore(figure, number);
                }

                break;
        }
    }

    /// <summary>The summary's experiments: their arms' figures since start and the verdict shown for each.</summary>
    public List<ExperimentSummary> Summarize(VerdictBoard verdicts, bool withLatencyBuckets = false) => _arms.Values
        .GroupBy(a => a.Experiment, StringComparer.Ordinal)
        .OrderBy(g => g.Key, StringComparer.Ordinal)
        .Select(g => new ExperimentSummary(g.Key, [.. g
            .OrderBy(a => a.Shadow)
            .ThenBy(a => a.Arm, StringComparer.Ordinal)
            .Select(a => Summarize(a, withLatencyBuckets))], verdicts.For(g.Key)))
        .ToList();

    public UnattributedDeadLetterSummary SummarizeUnattributed() => _unattributedDeadLetters.Summarize();

    private static ArmSummary Summarize(ArmStatistics a, bool withLatencyBuckets) => new(
        a.Arm,
        a.Model,
        a.Version,
        a.Shadow,
        a.Predictions,
        a.Joined,
        a.Correct,
        a.Joined == 0 ? 0 : Math.Round((double)a.Correct / a.Joined, 4),
        Math.Round(a.Latency.Percentile(0.50), 3),
        Math.Round(a.Latency.Percentile(0.99), 3),
        a.Fallbacks)
    {
        LatencyP95Ms = Math.Round(a.Latency.Percentile(0.95), 3),
        LogLoss = Round(a.Total.LogLoss),
        Rmse = Round(a.Total.Rmse),
        Mae = Round(a.Total.Mae),
        FallbackRate = Round(a.Total.FallbackRate),
        ShadowAgreement = Round(a.Total.ShadowAgreement),
        DeadLetters = a.DeadLetters,
        DeadLetterRate = Round(a.DeadLetterRate),
        LatencyBuckets = withLatencyBuckets ? a.Latency.CopyBuckets() : null,
        Outcomes = a.Total.Outcomes.Count == 0 ? null : [.. a.Total.Outcomes.Select(t => Summarize(t, a.Total))],
    };

    private static OutcomeSummary Summarize(OutcomeTally t, OutcomeCounters counters) =>
        new(t.Declaration.Name, t.Declaration.AggregateName, Round(t.Value), t.Count, counters.Missing(t), Math.Round(t.Sum, 6), Round(t.Mean), Round(t.Rate))
        {
            Variance = t.Variance,
            RewardSum = t.RewardSum,
        };

    private static double? Round(double? value) => value is { } v ? Math.Round(v, 6) : null;
}
