namespace Mesh.Router.Experiments;

// The experiment YAML as written (docs/internal-contracts.md). Mutable with public setters because YamlDotNet
// fills it; the loader validates it before anything else sees it. Every key added after issue 2 is optional, so
// a spec written for `ab` alone still loads unchanged.

internal sealed class ExperimentSpec
{
    public List<ExperimentDefinition> Experiments { get; set; } = [];
}

internal sealed class ExperimentDefinition
{
    public string Name { get; set; } = "";

    /// <summary><c>ab</c>, <c>bandit</c> or <c>ensemble</c>.</summary>
    public string Strategy { get; set; } = "";

    public List<ArmDefinition> Arms { get; set; } = [];

    /// <summary>Models that get a copy of every record; their answers go to the shadow topic only.</summary>
    public List<ArmDefinition> Shadows { get; set; } = [];

    /// <summary>The name of the arm (the champion) that answers when another arm's host fails or times out.</summary>
    public string? Fallback { get; set; }

    /// <summary>Topics of this experiment; each defaults to the router's <c>Kafka:Topics</c> setting.</summary>
    public ExperimentTopics? Topics { get; set; }

    public BanditDefinition? Bandit { get; set; }

    public EnsembleDefinition? Ensemble { get; set; }

    public RateLimitDefinition? RateLimit { get; set; }

    /// <summary>Every model of the experiment takes NaN and ±Infinity features (otherwise such a record is dead-lettered).</summary>
    public bool AcceptNonFinite { get; set; }

    /// <summary>
    /// The feature contract: the names of the features, in the order records without names carry them. Every model is
    /// checked against it when its arm is built; records with names are mapped to each model's order by name.
    /// </summary>
    public List<string>? Features { get; set; }

    /// <summary>The feature set records must name in <c>feature_set</c> (an empty one is taken); another is dead-lettered.</summary>
    public string? FeatureSet { get; set; }

    // Read and validated by the metrics sink (docs/outcomes.md), which aggregates them; the router only accepts the keys.
    public List<OutcomeDefinition>? Outcomes { get; set; }

    public string? Reward { get; set; }

    public string? Verdict { get; set; }

    public double? VerdictEffectSize { get; set; }

    /// <summary>A copy with other arms (a weight change), every other setting as it is: a key added later is kept too.</summary>
    public ExperimentDefinition WithArms(List<ArmDefinition> arms)
    {
        var copy = (ExperimentDefinition)MemberwiseClone();
        copy.Arms = arms;
        return copy;
    }
}

internal sealed class ArmDefinition
{
    public string Name { get; set; } = "";

    public double Weight { get; set; }

    public string Endpoint { get; set; } = "";

    public string Model { get; set; } = "";

    public string Version { get; set; } = "";

    /// <summary>Optional: the MLflow model URI the host loads this model from; the metrics sink promotes on its registered name.</summary>
    public string? ModelUri { get; set; }

    /// <summary>Deadline of one ModelInfer call to this arm; 0 means <c>Router:Batching:CallTimeoutMs</c>.</summary>
    public int TimeoutMs { get; set; }

    /// <summary>This arm's model takes NaN and ±Infinity features (otherwise such a record is dead-lettered for it).</summary>
    public bool AcceptNonFinite { get; set; }

    /// <summary>Which of the server's outputs is the label and which the scores; by default chosen from ModelMetadata.</summary>
    public ArmOutputsDefinition? Outputs { get; set; }

    /// <summary>
    /// The class names in score order (a numeric label is an index into them), for a server that does not say them
    /// in its ModelMetadata (a foreign Open Inference Protocol server); they win over what the server says.
    /// </summary>
    public List<string>? Classes { get; set; }

    /// <summary>What is done to the model's answer before the Prediction is written: threshold, top-k, label mapping.</summary>
    public PostProcessDefinition? PostProcess { get; set; }

    /// <summary>A copy with another weight, every other setting as it is: a key added later is kept too.</summary>
    public ArmDefinition WithWeight(double weight)
    {
        var copy = (ArmDefinition)MemberwiseClone();
        copy.Weight = weight;
        return copy;
    }
}

internal sealed class ArmOutputsDefinition
{
    /// <summary>The output that holds one label per row: BYTES, INT64 or INT32.</summary>
    public string? Label { get; set; }

    /// <summary>The output that holds the class scores, <c>[N, classes]</c>: FP32 or FP64.</summary>
    public string? Scores { get; set; }
}

internal sealed class ExperimentTopics
{
    public string? Input { get; set; }

    public string? Predictions { get; set; }

    public string? ShadowPredictions { get; set; }
}

internal sealed class BanditDefinition
{
    /// <summary><c>thompson</c> or <c>epsilon-greedy</c>.</summary>
    public string Algorithm { get; set; } = "thompson";

    /// <summary>The exploration rate of epsilon-greedy.</summary>
    public double Epsilon { get; set; } = 0.1;
}

internal sealed class EnsembleDefinition
{
    /// <summary><c>mean</c>, <c>weighted-mean</c> (by arm weight) or <c>vote</c>.</summary>
    public string Combine { get; set; } = "mean";
}

internal sealed class RateLimitDefinition
{
    /// <summary>Sustained records per second admitted into the experiment; records over it wait.</summary>
    public double RecordsPerSecond { get; set; }

    /// <summary>The bucket size: how many records may pass at once after a quiet spell (default one second's worth).</summary>
    public double Burst { get; set; }
}
