using Mesh.Mlflow;
using Mesh.Router.Bandits;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Mesh.Router.Experiments;

/// <summary>Reads and validates the experiment YAML; every error names the setting and the spec field.</summary>
internal static class ExperimentSpecLoader
{
    public const string StrategyAb = "ab";
    public const string StrategyBandit = "bandit";
    public const string StrategyEnsemble = "ensemble";
    public const string BanditThompson = BanditPolicy.Thompson;
    public const string BanditEpsilonGreedy = BanditPolicy.EpsilonGreedy;
    public const string CombineMean = "mean";
    public const string CombineWeightedMean = "weighted-mean";
    public const string CombineVote = "vote";

    private static readonly IDeserializer s_deserializer = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .Build();

    internal sealed record LoadResult(ExperimentSpec? Spec, IReadOnlyList<string> Errors);

    public static LoadResult Load(string path)
    {
        var text = ReadText(path, out var fullPath, out var error);
        return text is null ? Fail(error!) : Parse(text, fullPath);
    }

    /// <summary>The file's text, or null with an error that names the setting and the path.</summary>
    public static string? ReadText(string path, out string fullPath, out string? error)
    {
        fullPath = Path.GetFullPath(path);
        // The default spec ships beside the binary; a relative path not found in the working folder is looked up there.
        var besideBinary = Path.Combine(AppContext.BaseDirectory, path);
        if (!Path.IsPathRooted(path) && !File.Exists(fullPath) && File.Exists(besideBinary))
        {
            fullPath = besideBinary;
        }

        error = null;
        if (!File.Exists(fullPath))
        {
            error = $"Router:ExperimentFile: the experiment file '{fullPath}' does not exist.";
            return null;
        }

        try
        {
            return File.ReadAllText(fullPath);
        }
        catch (IOException e)
        {
            error = $"Router:ExperimentFile: the experiment file '{fullPath}' could not be read: {e.Message}";
            return null;
        }
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

            var strategy = experiment.Strategy;
            if (strategy is not (StrategyAb or StrategyBandit or StrategyEnsemble))
            {
                yield return $"{at}.strategy: '{strategy}' is not supported (supported: {StrategyAb}, {StrategyBandit}, {StrategyEnsemble}).";
            }

            foreach (var error in ValidateStrategySettings(experiment, at))
            {
                yield return error;
            }

            foreach (var error in ValidateNames(experiment.Features, $"{at}.features", "feature"))
            {
                yield return error;
            }

            if (experiment.FeatureSet is not null && string.IsNullOrWhiteSpace(experiment.FeatureSet))
            {
                yield return $"{at}.featureSet: a feature set name, when given, must not be empty.";
            }

            if (experiment.Arms is null || experiment.Arms.Count == 0)
            {
                yield return $"{at}.arms: at least one arm is required.";
                continue;
            }

            // Only ab splits traffic by weight; bandits learn their split and ensembles call every arm.
            var weightsRequired = strategy == StrategyAb;
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

                if (weightsRequired || arm.Weight != 0)
                {
                    if (!(arm.Weight > 0) || double.IsInfinity(arm.Weight))
                    {
                        yield return $"{armAt}.weight: must be a number greater than 0 (was {arm.Weight}).";
                    }
                    else if (weightsRequired && arm.Weight / total * ArmAssigner.BucketCount < 1)
                    {
                        // An arm smaller than one bucket would never be assigned while its weight says it is.
                        yield return $"{armAt}.weight: {arm.Weight} is less than 1/{ArmAssigner.BucketCount} of the total weight {total}.";
                    }
                }

                foreach (var error in ValidateModel(arm, armAt).Concat(PostProcessSpecValidator.Validate(arm.PostProcess, armAt, strategy)))
                {
                    yield return error;
                }
            }

            if (experiment.Fallback is { } fallback && !armNames.Contains(fallback))
            {
                yield return $"{at}.fallback: '{fallback}' is not the name of an arm of this experiment.";
            }

            var shadowNames = new HashSet<string>(StringComparer.Ordinal);
            for (var s = 0; s < (experiment.Shadows?.Count ?? 0); s++)
            {
                var shadow = experiment.Shadows![s];
                var shadowAt = $"{at}.shadows[{s}]";
                if (shadow is null)
                {
                    yield return $"{shadowAt}: is empty.";
                    continue;
                }

                if (string.IsNullOrWhiteSpace(shadow.Name))
                {
                    yield return $"{shadowAt}.name: is required.";
                }
                else if (!shadowNames.Add(shadow.Name) || armNames.Contains(shadow.Name))
                {
                    yield return $"{shadowAt}.name: '{shadow.Name}' is used by another arm or shadow of this experiment.";
                }

                foreach (var error in ValidateModel(shadow, shadowAt).Concat(PostProcessSpecValidator.Validate(shadow.PostProcess, shadowAt, StrategyAb)))
                {
                    yield return error;
                }
            }
        }
    }

    private static IEnumerable<string> ValidateStrategySettings(ExperimentDefinition experiment, string at)
    {
        if (experiment.Bandit is { } bandit)
        {
            if (bandit.Algorithm is not (BanditThompson or BanditEpsilonGreedy))
            {
                yield return $"{at}.bandit.algorithm: '{bandit.Algorithm}' is not supported (supported: {BanditThompson}, {BanditEpsilonGreedy}).";
            }

            if (!(bandit.Epsilon is >= 0 and <= 1))
            {
                yield return $"{at}.bandit.epsilon: must be between 0 and 1 (was {bandit.Epsilon}).";
            }
        }

        if (experiment.Ensemble is { } ensemble && ensemble.Combine is not (CombineMean or CombineWeightedMean or CombineVote))
        {
            yield return $"{at}.ensemble.combine: '{ensemble.Combine}' is not supported (supported: {CombineMean}, {CombineWeightedMean}, {CombineVote}).";
        }

        if (experiment.RateLimit is { } limit)
        {
            if (!(limit.RecordsPerSecond > 0) || double.IsInfinity(limit.RecordsPerSecond))
            {
                yield return $"{at}.rateLimit.recordsPerSecond: must be a number greater than 0 (was {limit.RecordsPerSecond}).";
            }

            if (limit.Burst < 0 || double.IsNaN(limit.Burst) || double.IsInfinity(limit.Burst))
            {
                yield return $"{at}.rateLimit.burst: must be 0 (one second's worth) or a positive number (was {limit.Burst}).";
            }
        }

        if (experiment.Topics is { } topics &&
            new[] { topics.Input, topics.Predictions, topics.ShadowPredictions }.Any(t => t is not null && string.IsNullOrWhiteSpace(t)))
        {
            yield return $"{at}.topics: a topic name, when given, must not be empty.";
        }
    }

    private static IEnumerable<string> ValidateModel(ArmDefinition arm, string armAt)
    {
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

        if (arm.ModelUri is not null && !MlflowModelUri.TryParse(arm.ModelUri, out _, out var uriError))
        {
            yield return $"{armAt}.modelUri: {uriError}";
        }

        if (arm.TimeoutMs is < 0 or > 600_000)
        {
            yield return $"{armAt}.timeoutMs: must be between 0 (Router:Batching:CallTimeoutMs) and 600000 (was {arm.TimeoutMs}).";
        }

        if (arm.Outputs is { } outputs)
        {
            if (outputs.Label is null && outputs.Scores is null)
            {
                yield return $"{armAt}.outputs: names neither a label nor a scores output.";
            }

            if (outputs.Label is not null && string.IsNullOrWhiteSpace(outputs.Label))
            {
                yield return $"{armAt}.outputs.label: an output name, when given, must not be empty.";
            }

            if (outputs.Scores is not null && string.IsNullOrWhiteSpace(outputs.Scores))
            {
                yield return $"{armAt}.outputs.scores: an output name, when given, must not be empty.";
            }
        }

        foreach (var error in ValidateNames(arm.Classes, $"{armAt}.classes", "class"))
        {
            yield return error;
        }
    }

    /// <summary>A list of names that, when given, has at least one name and no empty or repeated one.</summary>
    private static IEnumerable<string> ValidateNames(List<string>? names, string at, string what)
    {
        if (names is null)
        {
            yield break;
        }

        if (names.Count == 0)
        {
            yield return $"{at}: lists no {what} name (leave it out instead).";
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < names.Count; i++)
        {
            if (string.IsNullOrWhiteSpace(names[i]))
            {
                yield return $"{at}[{i}]: a {what} name must not be empty.";
            }
            else if (!seen.Add(names[i]))
            {
                yield return $"{at}[{i}]: '{names[i]}' is listed twice.";
            }
        }
    }

    private static LoadResult Fail(string error) => new(null, [error]);
}
