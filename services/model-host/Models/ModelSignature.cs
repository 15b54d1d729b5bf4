using Mesh.ModelHost.Inference;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Mesh.ModelHost.Models;

/// <summary>
/// What one model version looks like on the wire (v2 inputs and outputs), read from its ONNX graph, its
/// config.json and its MLflow signature, and the ONNX outputs a run must produce to answer it.
/// </summary>
internal sealed class ModelSignature
{
    public const string LabelOutputName = "label";
    public const string ProbabilitiesOutputName = "probabilities";

    public ModelSignature(InferenceSession session, ModelConfigFile? config, string source, IReadOnlyList<SignatureTensor>? signature)
    {
        var inputs = new List<InputSpec>();
        foreach (var (inputName, metadata) in session.InputMetadata)
        {
            var datatype = metadata.IsTensor ? TensorDatatype.ToV2(metadata.ElementDataType) : null;
            if (datatype is null)
            {
                throw new InvalidDataException($"{source}: input '{inputName}' is {Describe(metadata)}, which the Open Inference Protocol cannot carry.");
            }

            inputs.Add(new InputSpec(inputName, datatype, metadata.ElementDataType, ToWireShape(metadata.Dimensions)));
        }

        Inputs = signature is null ? inputs : ApplySignature(inputs, signature, source);
        InputNames = [.. inputs.Select(i => i.Name)];

        if (config?.Input?.Name is { } configInput && FindInput(configInput) is null)
        {
            throw new InvalidDataException($"{source}: config.json names the input '{configInput}', the model has {string.Join(", ", InputNames)}.");
        }

        if (config?.Input?.FeatureNames is { Count: > 0 } featureNames
            && FindInput(config.Input.Name ?? InputNames[0]) is { Shape: [_, var features] } featureInput
            && featureNames.Count != features)
        {
            throw new InvalidDataException($"{source}: config.json lists {featureNames.Count} feature names, the input '{featureInput.Name}' has {features} features.");
        }

        if (config?.Input?.FeatureNames is { Count: > 0 } names)
        {
            FeatureNames = (config.Input.Name ?? InputNames[0], [.. names]);
        }

        var outputs = new List<OutputSpec>();
        var runNames = new List<string>();
        var runTypes = new List<TensorElementType>();
        if (config is { ProbabilityOutput: { } probabilityOutput, ClassNames: { Count: > 0 } classNames })
        {
            if (!session.OutputMetadata.TryGetValue(probabilityOutput, out var probabilityMetadata))
            {
                throw new InvalidDataException($"{source}: config.json names the probability output '{probabilityOutput}', the model has {string.Join(", ", session.OutputNames)}.");
            }

            var dims = probabilityMetadata.Dimensions;
            if (!probabilityMetadata.IsTensor || probabilityMetadata.ElementDataType != TensorElementType.Float || dims.Length != 2 || (dims[1] > 0 && dims[1] != classNames.Count))
            {
                throw new InvalidDataException(
                    $"{source}: output '{probabilityOutput}' is {Describe(probabilityMetadata)}; expected FP32 [N, {classNames.Count}] for the {classNames.Count} class names.");
            }

            runNames.Add(probabilityOutput);
            runTypes.Add(TensorElementType.Float);
            outputs.Add(new OutputSpec(LabelOutputName, TensorDatatype.Bytes, [-1], OutputKind.ClassLabel, 0));
            outputs.Add(new OutputSpec(ProbabilitiesOutputName, "FP32", [-1, classNames.Count], OutputKind.Tensor, 0));
            ConfigClassNames = [.. classNames];
        }
        else
        {
            foreach (var (outputName, metadata) in session.OutputMetadata)
            {
                if (metadata.IsTensor && TensorDatatype.ToV2(metadata.ElementDataType) is { } datatype)
                {
                    outputs.Add(new OutputSpec(outputName, datatype, ToWireShape(metadata.Dimensions), OutputKind.Tensor, runNames.Count));
                    runNames.Add(outputName);
                    runTypes.Add(metadata.ElementDataType);
                }
                else if (ZipMapValueType(metadata) is { } valueType)
                {
                    // The class count is learnt from the warm-up run: the maps carry the labels.
                    outputs.Add(new OutputSpec(outputName, TensorDatatype.ToV2(valueType)!, [-1, -1], OutputKind.ZipMap, runNames.Count));
                    runNames.Add(outputName);
                    runTypes.Add(valueType);
                }
                else
                {
                    throw new InvalidDataException($"{source}: output '{outputName}' is {Describe(metadata)}, which the Open Inference Protocol cannot carry.");
                }
            }
        }

        Outputs = outputs;
        RunOutputNames = [.. runNames];
        RunOutputTypes = [.. runTypes];

        var batched = Inputs.All(i => i.Shape is [< 0, ..]);
        var rowShapes = new long[RunOutputNames.Length][];
        for (var i = 0; i < rowShapes.Length && batched; i++)
        {
            var metadata = session.OutputMetadata[RunOutputNames[i]];
            var dims = metadata.IsTensor ? metadata.Dimensions : [];
            batched = metadata.IsTensor && !metadata.IsString && dims.Length >= 1 && dims[0] < 0 && dims.Skip(1).All(d => d > 0);
            rowShapes[i] = batched ? [.. dims.Skip(1).Select(d => (long)d)] : [];
        }

        RunOutputRowShapes = batched ? rowShapes : null;
        RowsStack = Inputs.All(i => i.Shape is [< 0, ..] && i.Shape.Skip(1).All(d => d > 0))
            && RunOutputNames.All(n => session.OutputMetadata[n] is var m && (!m.IsTensor || m.Dimensions is [< 0, ..]));
    }

    // A chain answers with its first step's inputs and its last step's outputs.
    private ModelSignature(ModelSignature first, ModelSignature last, bool rowsStack)
    {
        Inputs = first.Inputs;
        InputNames = first.InputNames;
        FeatureNames = first.FeatureNames;
        Outputs = last.Outputs;
        RunOutputNames = last.RunOutputNames;
        RunOutputTypes = last.RunOutputTypes;
        RunOutputRowShapes = last.RunOutputRowShapes;
        ConfigClassNames = last.ConfigClassNames;
        RowsStack = rowsStack;
    }

    /// <summary>The composite signature of a chain: <paramref name="first"/>'s inputs, <paramref name="last"/>'s outputs and class names.</summary>
    public static ModelSignature Chain(ModelSignature first, ModelSignature last, bool rowsStack) => new(first, last, rowsStack);

    public IReadOnlyList<InputSpec> Inputs { get; }

    /// <summary>The ONNX graph's input names, in the order of <see cref="Inputs"/>.</summary>
    public string[] InputNames { get; }

    public IReadOnlyList<OutputSpec> Outputs { get; }

    /// <summary>The ONNX outputs a run produces; <see cref="OutputSpec.RunOutputIndex"/> points into these.</summary>
    public string[] RunOutputNames { get; }

    public TensorElementType[] RunOutputTypes { get; }

    /// <summary>
    /// Per ONNX output, the shape of one batch row when every output is <c>[N, fixed...]</c>: then outputs
    /// can be sized ahead of the run. Null when they cannot.
    /// </summary>
    public long[][]? RunOutputRowShapes { get; }

    /// <summary>
    /// True when every input is <c>[N, fixed...]</c> and every output's first dimension follows N, so
    /// requests can be stacked along N into one run and split back (the warm-up run checks it again).
    /// </summary>
    public bool RowsStack { get; }

    /// <summary>The class names config.json gives a classifier, in score order.</summary>
    public IReadOnlyList<string>? ConfigClassNames { get; }

    /// <summary>The input whose columns config.json names, and the names in column order; null when it names none.</summary>
    public (string Input, string[] Names)? FeatureNames { get; }

    public InputSpec? FindInput(string name)
    {
        foreach (var input in Inputs)
        {
            if (string.Equals(input.Name, name, StringComparison.Ordinal))
            {
                return input;
            }
        }

        return null;
    }

    public OutputSpec? FindOutput(string name)
    {
        foreach (var output in Outputs)
        {
            if (string.Equals(output.Name, name, StringComparison.Ordinal))
            {
                return output;
            }
        }

        return null;
    }

    // The MLflow signature can be stricter than the ONNX graph (a fixed feature count where the graph
    // leaves it open); it must not contradict it.
    private static List<InputSpec> ApplySignature(List<InputSpec> inputs, IReadOnlyList<SignatureTensor> signature, string source)
    {
        var result = new List<InputSpec>(inputs);
        foreach (var tensor in signature)
        {
            var index = tensor.Name is null && inputs.Count == 1 ? 0 : inputs.FindIndex(i => i.Name == tensor.Name);
            if (index < 0)
            {
                throw new InvalidDataException($"{source}: the MLmodel signature names input '{tensor.Name}', the model has {string.Join(", ", inputs.Select(i => i.Name))}.");
            }

            var input = inputs[index];
            if (tensor.Datatype != input.Datatype || tensor.Shape.Length != input.Shape.Length)
            {
                throw new InvalidDataException(
                    $"{source}: the MLmodel signature says input '{input.Name}' is {tensor.Datatype} {TensorDatatype.Format(tensor.Shape)}; the model has {input.Datatype} {TensorDatatype.Format(input.Shape)}.");
            }

            var shape = new long[input.Shape.Length];
            for (var d = 0; d < shape.Length; d++)
            {
                if (input.Shape[d] >= 0 && tensor.Shape[d] >= 0 && input.Shape[d] != tensor.Shape[d])
                {
                    throw new InvalidDataException(
                        $"{source}: the MLmodel signature gives input '{input.Name}' shape {TensorDatatype.Format(tensor.Shape)}; the model has {TensorDatatype.Format(input.Shape)}.");
                }

                shape[d] = input.Shape[d] >= 0 ? input.Shape[d] : tensor.Shape[d];
            }

            result[index] = input with { Shape = shape };
        }

        return result;
    }

    private static TensorElementType? ZipMapValueType(NodeMetadata metadata)
    {
        if (metadata.OnnxValueType != OnnxValueType.ONNX_TYPE_SEQUENCE)
        {
            return null;
        }

        var element = metadata.AsSequenceMetadata().ElementMeta;
        if (element.OnnxValueType != OnnxValueType.ONNX_TYPE_MAP)
        {
            return null;
        }

        var map = element.AsMapMetadata();
        var value = map.ValueMetadata;
        return (map.KeyDataType is TensorElementType.Int64 or TensorElementType.String) && value.IsTensor
            && value.ElementDataType is TensorElementType.Float or TensorElementType.Double
            ? value.ElementDataType
            : null;
    }

    private static long[] ToWireShape(int[] dims) => [.. dims.Select(d => d < 0 ? -1L : d)];

    private static string Describe(NodeMetadata metadata) =>
        metadata.IsTensor
            ? $"{metadata.ElementDataType} [{string.Join(", ", metadata.Dimensions)}]"
            : metadata.OnnxValueType.ToString();
}
