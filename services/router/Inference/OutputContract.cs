using Google.Protobuf.Collections;
using Inference;
using TensorMetadata = Inference.ModelMetadataResponse.Types.TensorMetadata;

namespace Mesh.Router.Inference;

/// <summary>
/// What an arm reads from its server's answers: which output is the label and which the scores, how many classes,
/// and their names. Settled once, from ModelMetadata and the arm's spec, when the arm starts: a server that cannot
/// answer it is refused then, not discovered record by record.
/// </summary>
internal sealed class OutputContract
{
    /// <summary>The parameter (model-level in ModelMetadata, or on the scores output) that holds the class names as a JSON array.</summary>
    public const string ClassNamesParameter = "class_names";

    private OutputContract(string? labelOutput, string? scoresOutput, int classCount, string[]? classNames)
    {
        LabelOutput = labelOutput;
        ScoresOutput = scoresOutput;
        ClassCount = classCount;
        ClassNames = classNames;
        foreach (var name in new[] { labelOutput, scoresOutput })
        {
            if (name is not null)
            {
                Requested.Add(new ModelInferRequest.Types.InferRequestedOutputTensor { Name = name });
            }
        }
    }

    /// <summary>The output holding one label per row, or null when the label is the best score.</summary>
    public string? LabelOutput { get; }

    /// <summary>The output holding the class scores <c>[N, classes]</c>, or null when the server sends none.</summary>
    public string? ScoresOutput { get; }

    /// <summary>The number of scores per row the metadata fixes; -1 when only the answers tell.</summary>
    public int ClassCount { get; }

    /// <summary>
    /// The class names in score order (from the spec's <c>classes:</c> or the server's metadata); null when neither
    /// says them, and the answer's own <c>class_names</c> parameter, if any, is read instead.
    /// </summary>
    public string[]? ClassNames { get; }

    /// <summary>The outputs named in every ModelInferRequest, so the server computes and sends only these (never mutated).</summary>
    public RepeatedField<ModelInferRequest.Types.InferRequestedOutputTensor> Requested { get; } = [];

    public string Describe() =>
        $"label {LabelOutput ?? "(best score)"}, scores {ScoresOutput ?? "(none)"}" +
        (ClassNames is null ? "" : $", classes {string.Join(" ", ClassNames)}");

    /// <summary>
    /// The contract of one arm. <paramref name="label"/> and <paramref name="scores"/> are the spec's <c>outputs:</c>;
    /// when the spec names neither, the first BYTES (else INT64 or INT32) output is the label and the first FP32 or FP64
    /// output the scores. <paramref name="classes"/> (the spec's <c>classes:</c>) wins over the metadata's class names.
    /// </summary>
    /// <exception cref="InvalidOperationException">The server cannot answer the contract; the message names the output.</exception>
    public static OutputContract Resolve(ModelMetadataResponse metadata, string? label, string? scores, IReadOnlyList<string>? classes)
    {
        var outputs = metadata.Outputs;
        var named = label is not null || scores is not null;
        var labelTensor = label is not null ? Find(outputs, label, "label") : named ? null : FirstLabel(outputs);
        var scoresTensor = scores is not null ? Find(outputs, scores, "scores") : named ? null : FirstOf(outputs, OutputDatatypes.IsScores);
        if (labelTensor is null && scoresTensor is null)
        {
            throw new InvalidOperationException(
                $"lists no output the router can read: a label ({OutputDatatypes.LabelTypes}) or scores ({OutputDatatypes.ScoreTypes}); " +
                $"its outputs are {Describe(outputs)} (an arm names them with outputs: {{label: ..., scores: ...}}).");
        }

        if (labelTensor is not null)
        {
            if (!OutputDatatypes.IsLabel(labelTensor.Datatype))
            {
                throw new InvalidOperationException($"output '{labelTensor.Name}' is {labelTensor.Datatype}; a label output must be {OutputDatatypes.LabelTypes}.");
            }

            if (labelTensor.Shape.Count >= 2 && labelTensor.Shape[^1] > 1)
            {
                throw new InvalidOperationException($"output '{labelTensor.Name}' has shape {Shape(labelTensor)}; a label output has one value per row.");
            }
        }

        var classCount = -1;
        if (scoresTensor is not null)
        {
            if (!OutputDatatypes.IsScores(scoresTensor.Datatype))
            {
                throw new InvalidOperationException($"output '{scoresTensor.Name}' is {scoresTensor.Datatype}; a scores output must be {OutputDatatypes.ScoreTypes}.");
            }

            if (scoresTensor.Shape.Count > 2)
            {
                throw new InvalidOperationException($"output '{scoresTensor.Name}' has shape {Shape(scoresTensor)}; scores are [N, classes].");
            }

            classCount = scoresTensor.Shape.Count < 2 ? 1 : scoresTensor.Shape[^1] > 0 ? checked((int)scoresTensor.Shape[^1]) : -1;
        }

        var classNames = classes is { Count: > 0 }
            ? [.. classes]
            : ReadClassNames(scoresTensor?.Parameters, $"output '{scoresTensor?.Name}'") ?? ReadClassNames(metadata.Parameters, "ModelMetadata");
        if (classNames is not null && classCount > 0 && classNames.Length != classCount)
        {
            throw new InvalidOperationException(
                $"output '{scoresTensor!.Name}' has {classCount} scores per row but {classNames.Length} class names are given ({string.Join(", ", classNames)}).");
        }

        return new OutputContract(labelTensor?.Name, scoresTensor?.Name, classCount, classNames);
    }

    /// <summary>A JSON array of strings in <paramref name="parameters"/>' <c>class_names</c>, or null when there is none.</summary>
    public static string[]? ReadClassNames(MapField<string, InferParameter>? parameters, string where) =>
        StringListParameter.Read(parameters, ClassNamesParameter, where);

    private static TensorMetadata Find(RepeatedField<TensorMetadata> outputs, string name, string role)
    {
        foreach (var output in outputs)
        {
            if (string.Equals(output.Name, name, StringComparison.Ordinal))
            {
                return output;
            }
        }

        throw new InvalidOperationException($"has no output '{name}' (the arm's outputs.{role}); its outputs are {Describe(outputs)}.");
    }

    private static TensorMetadata? FirstLabel(RepeatedField<TensorMetadata> outputs) =>
        FirstOf(outputs, static t => t == OutputDatatypes.Bytes) ?? FirstOf(outputs, static t => t is OutputDatatypes.Int64 or OutputDatatypes.Int32);

    private static TensorMetadata? FirstOf(RepeatedField<TensorMetadata> outputs, Func<string, bool> datatype)
    {
        foreach (var output in outputs)
        {
            if (datatype(output.Datatype))
            {
                return output;
            }
        }

        return null;
    }

    private static string Describe(RepeatedField<TensorMetadata> outputs) =>
        outputs.Count == 0 ? "none" : string.Join(", ", outputs.Select(o => $"'{o.Name}' {o.Datatype} {Shape(o)}"));

    private static string Shape(TensorMetadata tensor) => $"[{string.Join(", ", tensor.Shape)}]";
}
