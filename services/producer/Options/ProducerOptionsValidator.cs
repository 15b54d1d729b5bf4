using Microsoft.Extensions.Options;

namespace Mesh.Producer.Options;

/// <summary>Checks what data annotations cannot: the format and shape names, and that the source file exists, named with its resolved path.</summary>
internal sealed class ProducerOptionsValidator : IValidateOptions<ProducerOptions>
{
    public ValidateOptionsResult Validate(string? name, ProducerOptions options)
    {
        var failures = new List<string>();
        var format = options.ResolveFormat();
        if (format == SourceFormat.Unknown)
        {
            failures.Add($"Producer:Format '{options.Format}' is not one of csv, jsonl, parquet, synthetic.");
        }
        else if (format != SourceFormat.Synthetic)
        {
            if (string.IsNullOrWhiteSpace(options.File))
            {
                failures.Add("Producer:File is required: the CSV, JSON lines or Parquet file to publish (e.g. --Producer:File=data/iris.csv), or set Producer:Format=synthetic.");
            }
            else if (!File.Exists(options.ResolveFile()))
            {
                failures.Add($"Producer:File: '{options.File}' does not exist (resolved to '{options.ResolveFile()}' from the current directory '{Directory.GetCurrentDirectory()}').");
            }
        }

        if (options.OnBadRow.ToLowerInvariant() is not ("skip" or "stop"))
        {
            failures.Add($"Producer:OnBadRow '{options.OnBadRow}' is not one of skip, stop.");
        }

        switch (options.Profile.ToLowerInvariant())
        {
            case "constant":
                break;
            case "step":
                if (options.StepSeconds <= 0)
                {
                    failures.Add("Producer:StepSeconds must be above 0 for Producer:Profile=step.");
                }

                break;
            case "ramp":
                if (options.PeakRate <= 0 || options.RampSeconds <= 0)
                {
                    failures.Add("Producer:PeakRate and Producer:RampSeconds must be above 0 for Producer:Profile=ramp.");
                }

                break;
            case "burst":
                if (options.PeakRate <= 0 || options.BurstEverySeconds <= 0 || options.BurstSeconds > options.BurstEverySeconds)
                {
                    failures.Add("Producer:PeakRate and Producer:BurstEverySeconds must be above 0, and Producer:BurstSeconds at most Producer:BurstEverySeconds, for Producer:Profile=burst.");
                }

                break;
            default:
                failures.Add($"Producer:Profile '{options.Profile}' is not one of constant, step, ramp, burst.");
                break;
        }

        if (options.ProgressBar.ToLowerInvariant() is not ("auto" or "on" or "off"))
        {
            failures.Add($"Producer:ProgressBar '{options.ProgressBar}' is not one of auto, on, off.");
        }

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
