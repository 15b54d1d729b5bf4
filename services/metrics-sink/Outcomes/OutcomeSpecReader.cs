using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Mesh.MetricsSink.Outcomes;

/// <summary>
/// Reads the <c>outcomes</c>, <c>reward</c>, <c>verdict</c> and <c>verdictEffectSize</c> keys of each experiment in
/// the router's YAML. The sink has its own small reader rather than the router's: it needs four keys of a file whose
/// other keys are the router's to change. Errors name the path in the file, e.g. <c>experiments[0].outcomes[1].aggregate</c>.
/// </summary>
internal static partial class OutcomeSpecReader
{
    private static readonly IDeserializer s_deserializer = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .IgnoreUnmatchedProperties()
        .Build();

    /// <summary>The catalog the file declares, or null and the errors (each naming its path).</summary>
    public static OutcomeCatalog? Read(string path, out IReadOnlyList<string> errors)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors = [$"cannot read {Path.GetFullPath(path)}: {e.Message}"];
            return null;
        }

        return Parse(text, out errors);
    }

    public static OutcomeCatalog? Parse(string yaml, out IReadOnlyList<string> errors)
    {
        OutcomeSpec? spec;
        try
        {
            spec = s_deserializer.Deserialize<OutcomeSpec?>(yaml);
        }
        catch (YamlException e)
        {
            errors = [$"not valid YAML at line {e.Start.Line}: {e.InnerException?.Message ?? e.Message}"];
            return null;
        }

        var found = new List<string>();
        var experiments = new Dictionary<string, ExperimentOutcomes>(StringComparer.Ordinal);
        var list = spec?.Experiments ?? [];
        for (var i = 0; i < list.Count; i++)
        {
            if (Validate(list[i], $"experiments[{i}]", found) is { } outcomes && list[i].Name.Length > 0)
            {
                experiments[list[i].Name] = outcomes;
            }
        }

        errors = found;
        return found.Count == 0 ? new OutcomeCatalog(experiments) : null;
    }

    private static ExperimentOutcomes? Validate(OutcomeExperimentSpec experiment, string path, List<string> errors)
    {
        var before = errors.Count;
        var declared = new List<OutcomeDeclaration>();
        var items = experiment.Outcomes ?? [];
        for (var j = 0; j < items.Count; j++)
        {
            var item = items[j];
            var at = $"{path}.outcomes[{j}]";
            if (!NamePattern().IsMatch(item.Name ?? ""))
            {
                errors.Add($"{at}.name must be a letter then letters, digits or '_' (got '{item.Name}')");
            }
            else if (declared.Exists(d => d.Name == item.Name))
            {
                errors.Add($"{at}.name '{item.Name}' is declared twice");
            }

            OutcomeAggregate? aggregate = item.Aggregate switch
            {
                "mean" => OutcomeAggregate.Mean,
                "sum" => OutcomeAggregate.Sum,
                "rate" => OutcomeAggregate.Rate,
                _ => null,
            };
            if (aggregate is null)
            {
                errors.Add($"{at}.aggregate must be mean, sum or rate (got '{item.Aggregate}')");
            }

            if (item.RewardScale is { } scale && !(scale > 0 && double.IsFinite(scale)))
            {
                errors.Add($"{at}.rewardScale must be a positive number (got {scale})");
            }

            if (errors.Count == before)
            {
                declared.Add(new OutcomeDeclaration(item.Name!, aggregate!.Value, j, item.RewardScale ?? 1));
            }
        }

        var reward = Named(experiment.Reward, declared, $"{path}.reward", errors);
        var verdict = Named(experiment.Verdict, declared, $"{path}.verdict", errors);
        if (experiment.VerdictEffectSize is { } effect && !(effect > 0 && double.IsFinite(effect)))
        {
            errors.Add($"{path}.verdictEffectSize must be a positive number (got {effect})");
        }

        return errors.Count == before ? new ExperimentOutcomes(declared, reward, verdict, experiment.VerdictEffectSize) : null;
    }

    private static OutcomeDeclaration? Named(string? name, List<OutcomeDeclaration> declared, string path, List<string> errors)
    {
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }

        var found = declared.Find(d => d.Name == name);
        if (found is null)
        {
            errors.Add($"{path} names '{name}', which is not one of the experiment's outcomes");
        }

        return found;
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_]*$")]
    private static partial Regex NamePattern();
}
