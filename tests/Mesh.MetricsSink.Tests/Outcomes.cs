namespace Mesh.MetricsSink.Tests;

/// <summary>An experiment spec declaring custom outcomes, as the router's file holds it, and joiners that read it.</summary>
internal static class Outcomes
{
    public const string Spec = """
        experiments:
          - name: shop
            strategy: bandit
            arms:
              - {name: logreg, endpoint: "http://127.0.0.1:1", model: iris-logreg}
              - {name: boosted, endpoint: "http://127.0.0.1:1", model: iris-boosted}
            outcomes:
              - name: revenue
                aggregate: mean
                rewardScale: 100
              - name: clicked
                aggregate: rate
              - name: cost
                aggregate: sum
            reward: clicked
            verdict: revenue
            verdictEffectSize: 2.5
          - name: plain
            strategy: ab
            arms:
              - {name: logreg, endpoint: "http://127.0.0.1:1", model: iris-logreg}
        """;

    public static OutcomeCatalog Catalog(string spec = Spec) =>
        OutcomeSpecReader.Parse(spec, out var errors) ?? throw new InvalidOperationException(string.Join("; ", errors));

    public static PredictionLabelJoiner Joiner(TimeProvider time, string spec = Spec) =>
        new(time, TimeSpan.FromMinutes(10), 100_000, outcomes: Catalog(spec));

    /// <summary>A label of <paramref name="requestId"/> carrying the given outcomes.</summary>
    public static Label Label(string requestId, params (string Name, double Value)[] outcomes)
    {
        var label = Make.Label(requestId);
        foreach (var (name, value) in outcomes)
        {
            label.Outcomes[name] = value;
        }

        return label;
    }
}
