using System.Globalization;
using System.Text.Json;
using Spectre.Console;

namespace Mesh.Cli.PolicyEvaluation;

/// <summary>The results of <c>mesh evaluate-policy</c>: a table per candidate for people, JSON for scripts.</summary>
internal static class PolicyEvaluationReport
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static void WriteTable(TextWriter output, string experiment, JoinCounts counts, IReadOnlyList<PolicyEvaluationResult> results)
    {
        var console = PlainConsole.Create(output, 200);
        console.WriteLine(Describe(experiment, counts));
        foreach (var result in results)
        {
            console.WriteLine();
            console.WriteLine($"candidate: {result.Candidate.Description}");
            if (result.Refusal is not null)
            {
                console.WriteLine($"refused: {result.Refusal}");
                continue;
            }

            var estimates = new Table().AddColumns("estimator", "estimate", "95 % interval", "std. error");
            foreach (var e in result.Estimates)
            {
                estimates.AddRow(e.Estimator, F(e.Value), $"{F(e.Lower)} .. {F(e.Upper)}", F(e.StandardError));
            }

            console.Write(estimates);
            console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"logged policy's mean reward {F(result.LoggedValue)}; effective sample size {result.EffectiveSampleSize:N0} of {result.Decisions:N0}; reward model: {result.RewardModel}"));
            var arms = new Table().AddColumns("arm", "candidate probability", "logged decisions", "min logged propensity", "logged mean reward");
            foreach (var a in result.Arms)
            {
                arms.AddRow(Markup.Escape(a.Arm), F(a.CandidateProbability), a.Logged.ToString("N0", CultureInfo.InvariantCulture), F(a.MinPropensity), F(a.MeanReward));
            }

            console.Write(arms);
            foreach (var warning in result.Warnings)
            {
                console.WriteLine($"warning: {warning}");
            }
        }
    }

    public static void WriteJson(TextWriter output, string experiment, JoinCounts counts, IReadOnlyList<PolicyEvaluationResult> results)
    {
        var report = new
        {
            Experiment = experiment,
            Input = counts,
            Candidates = results.Select(r => new
            {
                Policy = r.Candidate.Description,
                r.Candidate.Probabilities,
                r.Refusal,
                r.Decisions,
                r.LoggedValue,
                r.EffectiveSampleSize,
                r.RewardModel,
                r.Estimates,
                r.Arms,
                r.Warnings,
            }),
        };
        output.WriteLine(JsonSerializer.Serialize(report, s_json));
    }

    private static string Describe(string experiment, JoinCounts c) => string.Create(CultureInfo.InvariantCulture,
        $"experiment {experiment}: {c.Decisions:N0} labelled decisions from {c.Predictions:N0} predictions (left out: {c.Unlabelled:N0} unlabelled, {c.Shadow:N0} shadow, {c.Fallback:N0} fallback, {c.Duplicates:N0} repeated, {c.BadPropensity:N0} without a valid assignment probability, {c.OtherExperiments:N0} of other experiments)");

    private static string F(double value) => double.IsNaN(value) ? "-" : value.ToString("0.0000", CultureInfo.InvariantCulture);
}
