namespace Mesh.Router.Experiments;

/// <summary>
/// Checks an arm's <c>postProcess:</c> when the spec loads (what needs the model's classes is checked when the arm
/// starts, by <see cref="OutputPostProcessor.Create"/>).
/// </summary>
internal static class PostProcessSpecValidator
{
    public static IEnumerable<string> Validate(PostProcessDefinition? post, string armAt, string strategy)
    {
        if (post is null)
        {
            yield break;
        }

        var at = $"{armAt}.postProcess";
        if (strategy == ExperimentSpecLoader.StrategyEnsemble)
        {
            // An ensemble writes one combined answer per record; a member's own answer is never written.
            yield return $"{at}: an ensemble's arms are combined before the Prediction is written; post-processing of one arm does not apply.";
        }

        if (post.Threshold is null && post.TopK is null && post.Labels is null)
        {
            yield return $"{at}: names none of threshold, topK, labels.";
        }

        if (post.Threshold is { } threshold)
        {
            if (string.IsNullOrWhiteSpace(threshold.Class))
            {
                yield return $"{at}.threshold.class: is required (the class whose score is compared).";
            }

            if (threshold.Score is not { } score || !(score is >= 0 and <= 1))
            {
                yield return $"{at}.threshold.score: must be a number between 0 and 1 (was {threshold.Score?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "missing"}).";
            }

            if (threshold.Otherwise is not null && (string.IsNullOrWhiteSpace(threshold.Otherwise) || threshold.Otherwise == threshold.Class))
            {
                yield return $"{at}.threshold.otherwise: must be a label other than threshold.class (leave it out for the best other class).";
            }
        }

        if (post.TopK is < 1)
        {
            yield return $"{at}.topK: must be 1 or more (was {post.TopK}).";
        }

        if (post.Labels is { } labels)
        {
            if (labels.Count == 0)
            {
                yield return $"{at}.labels: maps no class (leave it out instead).";
            }

            foreach (var (from, to) in labels)
            {
                if (string.IsNullOrWhiteSpace(from) || string.IsNullOrWhiteSpace(to))
                {
                    yield return $"{at}.labels.{from}: class names and the names they map to must not be empty.";
                }
            }

            foreach (var repeated in labels.Values.GroupBy(v => v, StringComparer.Ordinal).Where(g => g.Count() > 1))
            {
                yield return $"{at}.labels: maps {string.Join(", ", labels.Where(l => l.Value == repeated.Key).Select(l => l.Key))} to the same name '{repeated.Key}'.";
            }
        }
    }
}
