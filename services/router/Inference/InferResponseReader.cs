using Inference;

namespace Mesh.Router.Inference;

/// <summary>
/// Reads an Open Inference Protocol response by the arm's <see cref="OutputContract"/>: the label output (BYTES, or an
/// INT64/INT32 class index) and the scores output (FP32 or FP64 <c>[N, C]</c>), found by name, from
/// <c>raw_output_contents</c> or typed contents. Without a label output the label is the best score's class.
/// </summary>
internal static class InferResponseReader
{
    public const string ClassNamesParameter = OutputContract.ClassNamesParameter;

    /// <exception cref="InvalidDataException">The response does not hold <paramref name="rows"/> answers of the contract.</exception>
    public static InferenceOutput Read(ModelInferResponse response, int rows, OutputContract contract)
    {
        var useRaw = response.RawOutputContents.Count > 0;
        if (useRaw && response.RawOutputContents.Count != response.Outputs.Count)
        {
            throw new InvalidDataException(
                $"the response has {response.Outputs.Count} outputs but {response.RawOutputContents.Count} raw_output_contents.");
        }

        int labelIndex = -1, scoresIndex = -1;
        for (var i = 0; i < response.Outputs.Count; i++)
        {
            var name = response.Outputs[i].Name;
            if (labelIndex < 0 && string.Equals(name, contract.LabelOutput, StringComparison.Ordinal))
            {
                labelIndex = i;
            }
            else if (scoresIndex < 0 && string.Equals(name, contract.ScoresOutput, StringComparison.Ordinal))
            {
                scoresIndex = i;
            }
        }

        if (contract.LabelOutput is { } missingLabel && labelIndex < 0)
        {
            throw new InvalidDataException($"the response has no output '{missingLabel}' (the arm's label output).");
        }

        if (contract.ScoresOutput is { } missingScores && scoresIndex < 0)
        {
            throw new InvalidDataException($"the response has no output '{missingScores}' (the arm's scores output).");
        }

        var classNames = contract.ClassNames ?? OutputContract.ReadClassNames(response.Parameters, "the response") ?? [];
        float[]? scores = null;
        var classCount = 0;
        if (scoresIndex >= 0)
        {
            var output = response.Outputs[scoresIndex];
            classCount = output.Shape.Count >= 2 ? checked((int)output.Shape[^1]) : 1;
            if (contract.ClassCount > 0 && classCount != contract.ClassCount)
            {
                throw new InvalidDataException($"output '{output.Name}' has {classCount} scores per row; its metadata said {contract.ClassCount}.");
            }

            if (classNames.Length != 0 && classNames.Length != classCount)
            {
                throw new InvalidDataException($"{classNames.Length} class names are given but output '{output.Name}' has {classCount} scores per row.");
            }

            scores = OutputTensorDecoder.Scores(output, useRaw ? response.RawOutputContents[scoresIndex] : null, checked(rows * classCount));
        }

        var labels = labelIndex >= 0
            ? OutputTensorDecoder.Labels(response.Outputs[labelIndex], useRaw ? response.RawOutputContents[labelIndex] : null, rows, classNames)
            : ArgMaxLabels(scores!, rows, classCount, classNames);
        return new InferenceOutput(labels, scores ?? [], scores is null ? 0 : classCount, classNames, response.ModelName, response.ModelVersion);
    }

    private static string[] ArgMaxLabels(float[] scores, int rows, int classCount, string[] classNames)
    {
        var labels = new string[rows];
        for (var row = 0; row < rows; row++)
        {
            var span = scores.AsSpan(row * classCount, classCount);
            var best = 0;
            for (var c = 1; c < span.Length; c++)
            {
                if (span[c] > span[best])
                {
                    best = c;
                }
            }

            labels[row] = OutputTensorDecoder.LabelOf(best, classNames, "scores");
        }

        return labels;
    }
}
