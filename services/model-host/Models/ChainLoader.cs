using Mesh.ModelHost.Inference;
using Mesh.ModelHost.Options;
using Mesh.ModelHost.Telemetry;
using Microsoft.ML.OnnxRuntime;

namespace Mesh.ModelHost.Models;

/// <summary>
/// Opens every step of a chain and checks, before anything is served, that each step's outputs give the next step
/// every input it takes, by name, element type and the dimensions both sides fix: a chain that cannot run is refused
/// at load with the two steps and the tensor named, not on its first request.
/// </summary>
internal static class ChainLoader
{
    public static (ModelSignature Signature, ChainRunner Runner, bool AcceptsNonFinite) Load(
        string name,
        string version,
        IReadOnlyList<ChainStepSource> steps,
        ModelSessionSettings defaults,
        ModelHostTelemetry telemetry)
    {
        if (steps.Count < 2)
        {
            throw new InvalidDataException($"chain '{name}' version {version}: a chain needs two steps or more; it lists {steps.Count}.");
        }

        var opened = new List<(ChainStepSource Source, InferenceSession Session, ModelConfigFile? Config, string Path, ModelSessionSettings Settings)>();
        try
        {
            foreach (var step in steps)
            {
                var (session, config, path, settings) = ModelFolder.Open(step.Folder, step.Mlmodel, defaults);
                opened.Add((step, session, config, path, settings));
            }

            for (var k = 1; k < opened.Count; k++)
            {
                CheckLink($"chain '{name}' version {version}", k, opened[k - 1].Source.Name, opened[k - 1].Session, opened[k].Source.Name, opened[k].Session);
            }

            var first = opened[0];
            var last = opened[^1];
            var firstSignature = new ModelSignature(first.Session, first.Config, first.Path, first.Source.Mlmodel?.Inputs);
            var lastSignature = new ModelSignature(last.Session, last.Config, last.Path, last.Source.Mlmodel?.Inputs);
            last.Source.Mlmodel?.CheckOutputs(lastSignature.Outputs, Path.Combine(last.Source.Folder, MlmodelFile.FileName));

            var leading = new ChainStep[opened.Count - 1];
            var rowsFollow = true;
            for (var k = 0; k < leading.Length; k++)
            {
                var step = opened[k];
                string[] outputs = [.. opened[k + 1].Session.InputMetadata.Keys];
                leading[k] = new ChainStep(step.Source.Name, step.Session, [.. step.Session.InputMetadata.Keys], outputs);
                rowsFollow &= outputs.All(o => step.Session.OutputMetadata[o].Dimensions is [< 0, ..]);
            }

            var runner = new ChainRunner(name, version, leading, last.Source.Name, new OnnxRunner(last.Session, lastSignature), firstSignature.Inputs, telemetry);
            // Requests stack into one batch only when every step keeps the batch dimension.
            var signature = ModelSignature.Chain(firstSignature, lastSignature, firstSignature.RowsStack && rowsFollow && lastSignature.RowsStack);
            return (signature, runner, first.Settings.AcceptNonFinite);
        }
        catch
        {
            foreach (var step in opened)
            {
                step.Session.Dispose();
            }

            throw;
        }
    }

    // Step numbers are 1-based in messages, as a researcher counts the steps: link k joins step k to step k + 1.
    private static void CheckLink(string chain, int link, string fromName, InferenceSession from, string toName, InferenceSession to)
    {
        foreach (var (inputName, input) in to.InputMetadata)
        {
            if (!from.OutputMetadata.TryGetValue(inputName, out var output))
            {
                throw new InvalidDataException(
                    $"{chain}: step {link + 1} '{toName}' takes input '{inputName}', which step {link} '{fromName}' does not output "
                    + $"(its outputs: {string.Join(", ", from.OutputMetadata.Keys)}); steps are joined by tensor name.");
            }

            var rankDiffers = input.IsTensor && output.IsTensor && input.Dimensions.Length != output.Dimensions.Length;
            var fixedDiffers = !rankDiffers && input.IsTensor && output.IsTensor
                && input.Dimensions.Zip(output.Dimensions).Any(d => d.First >= 0 && d.Second >= 0 && d.First != d.Second);
            if (!output.IsTensor || !input.IsTensor || output.ElementDataType != input.ElementDataType || rankDiffers || fixedDiffers)
            {
                throw new InvalidDataException(
                    $"{chain}: step {link} '{fromName}' output '{inputName}' is {Describe(output)}; step {link + 1} '{toName}' input '{inputName}' takes {Describe(input)}.");
            }
        }
    }

    private static string Describe(NodeMetadata metadata) =>
        metadata.IsTensor
            ? $"{TensorDatatype.ToV2(metadata.ElementDataType) ?? metadata.ElementDataType.ToString()} {TensorDatatype.Format([.. metadata.Dimensions.Select(d => d < 0 ? -1L : d)])}"
            : metadata.OnnxValueType.ToString();
}
