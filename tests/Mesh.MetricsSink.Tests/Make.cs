namespace Mesh.MetricsSink.Tests;

internal static class Make
{
    public static Prediction Prediction(string requestId, string arm = "logreg", string predicted = "setosa", double latencyMs = 5, bool shadow = false, bool fallback = false, string experiment = "iris-ab") => new()
    {
        RequestId = requestId,
        EntityId = "entity-1",
        Experiment = experiment,
        Arm = arm,
        ModelName = "iris-" + arm,
        ModelVersion = "1",
        Shadow = shadow,
        Fallback = fallback,
        Output = new PredictionOutput { Label = predicted },
        Latency = new Latency { EndToEndMs = latencyMs },
    };

    public static Label Label(string requestId, string value = "setosa") => new() { RequestId = requestId, EntityId = "entity-1", Value = value };
}
