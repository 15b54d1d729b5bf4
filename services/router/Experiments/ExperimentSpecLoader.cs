using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Mesh.Router.Experiments;

/// <summary>Reads and validates the experiment YAML; every error names the setting and the spec field.</summary>
internal static class ExperimentSpecLoader
{
    public const string StrategyAb = "ab";

    private static readonly IDeserializer s_deserializer = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .Build();

    internal sealed record LoadResult(ExperimentSpec? Spec, IReadOnlyList<string> Errors);

    public static LoadResult Load(string path)
    {
        var fullPath = Path.GetFullPath(path);
        // The default spec ships beside the binary; a relative path not found in the working folder is looked up there.
        var besideBinary = Path.Combine(AppContext.BaseDirectory, path);
        if (!Path.IsPathRooted(path) && !File.Exists(fullPath) && File.Exists(besideBinary))
        {
            fullPath = besideBinary;
        }

        if (!File.Exists(fullPath))
        {
            return Fail($"Router:ExperimentFile: the experiment file '{fullPath}' does not exist.");
        }

        string text;
        try
        {
            text = File.ReadAllText(fullPath);
        }
        catch (IOException e)
        {
            return Fail($"Router:ExperimentFile: the experiment file '{fullPath}' could not be read: {e.Message}");
        }

        return Parse(text, fullPath);
    }

    /// <summary>Parses and validates YAML text; <paramref name="source"/> only labels the messages.</summary>
    public static LoadResult Parse(string yaml, string source)
    {
        ExperimentSpec? spec;
        try
        {
            spec = s_deserializer.Deserialize<ExperimentSpec?>(yaml);
        }
        catch (YamlException e)
        {
            var reason = e.InnerException?.Message ?? e.Message;
            return Fail($"Router:ExperimentFile '{source}': invalid YAML at line {e.Start.Line}, column {e.Start.Column}: {reason}");
        }

        var errors = Validate(spec).Select(error => $"Router:ExperimentFile '{source}': {error}").ToList();
        return new LoadResult(errors.Count == 0 ? spec : null, errors);
    }

    private static IEnumerable<string> Validate(ExperimentSpec? spec)
    {
        if (spec is null || spec.Experiments is null || spec.Experiments.Count == 0)
        {
            yield return "experiments: at least one experiment is required.";
            yield break;
        }

        var experimentNames = new HashSet<string>(StringComparer.Ordinal);
        for (var e = 0; e < spec.Experiments.Count; e++)
        {
            var experiment = spec.Experiments[e];
            var at = $"experiments[{e}]";
            if (experiment is null)
            {
                yield return $"{at}: is empty.";
                continue;
            }

            if (string.IsNullOrWhiteSpace(experiment.Name))
            {
                yield return $"{at}.name: is required.";
            }
            else if (!experimentNames.Add(experiment.Name))
            {
                yield return $"{at}.name: '{experiment.Name}' is used by another experiment.";
            }

            if (!string.Equals(experiment.Strategy, StrategyAb, StringComparison.Ordinal))
            {
                yield return $"{at}.strategy: '{experiment.Strategy}' is not supported (supported: {StrategyAb}).";
            }

            if (experiment.Arms is null || experiment.Arms.Count == 0)
            {
                yield return $"{at}.arms: at least one arm is required.";
                continue;
            }

            var armNames = new HashSet<string>(StringComparer.Ordinal);
            var total = experiment.Arms.Where(a => a is not null && a.Weight > 0).Sum(a => a.Weight);
            for (var a = 0; a < experiment.Arms.Count; a++)
            {
                var arm = experiment.Arms[a];
                var armAt = $"{at}.arms[{a}]";
                if (arm is null)
                {
                    yield return $"{armAt}: is empty.";
                    continue;
                }

                if (string.IsNullOrWhiteSpace(arm.Name))
                {
                    yield return $"{armAt}.name: is required.";
                }
                else if (!armNames.Add(arm.Name))
                {
                    yield return $"{armAt}.name: '{arm.Name}' is used by another arm of this experiment.";
                }

                if (!(arm.Weight > 0) || double.IsInfinity(arm.Weight))
                {
                    yield return $"{armAt}.weight: must be a number greater than 0 (was {arm.Weight}).";
                }
                else if (arm.Weight / total * ArmAssigner.BucketCount < 1)
                {
                    // An arm smaller than one bucket would never be assigned while its weight says it is.
                    yield return $"{armAt}.weight: {arm.Weight} is less than 1/{ArmAssigner.BucketCount} of the total weight {total}.";
                }

                if (!Uri.TryCreate(arm.Endpoint, UriKind.Absolute, out var endpoint) ||
                    (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps) ||
                    string.IsNullOrEmpty(endpoint.Host))
                {
                    yield return $"{armAt}.endpoint: '{arm.Endpoint}' is not an absolute http:// or https:// URL of a model host.";
                }

                if (string.IsNullOrWhiteSpace(arm.Model))
                {
                    yield return $"{armAt}.model: is required.";
                }
            }
        }
    }

    private static LoadResult Fail(string error) => new(null, [error]);
}
