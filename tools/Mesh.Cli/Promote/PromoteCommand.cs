using System.CommandLine;
using Mesh.Mlflow;

namespace Mesh.Cli.Promote;

/// <summary>
/// <c>mesh promote</c>: moves a registered model's champion alias by hand (<c>--version</c>), or back to the version it
/// was promoted from (<c>--undo</c>, the <c>mesh.promoted_from</c> tag the metrics sink's promotion leaves), against
/// the MLflow server MLflow's own variables name (MLFLOW_TRACKING_URI, MLFLOW_TRACKING_TOKEN or _USERNAME/_PASSWORD).
/// </summary>
internal static class PromoteCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "The registered model (its MLflow name, not a served name).", Required = true };
        var alias = new Option<string>("--alias") { Description = "The alias to move.", DefaultValueFactory = _ => "champion" };
        var version = new Option<string?>("--version") { Description = "Point the alias at this version (the move is recorded, so --undo can go back)." };
        var undo = new Option<bool>("--undo") { Description = "Move the alias back to the version its current version was promoted from." };
        var command = new Command("promote", "Move a registered model's champion alias in MLflow, or undo the last promotion.") { model, alias, version, undo };
        command.SetAction((result, token) => RunAsync(result.GetValue(model)!, result.GetValue(alias)!, result.GetValue(version), result.GetValue(undo), Console.Out, Console.Error, null, token));
        return command;
    }

    /// <summary>The command's work, with the environment passed in so tests can point it at a stand-in.</summary>
    public static async Task<int> RunAsync(string model, string alias, string? version, bool undo, TextWriter output, TextWriter error, Func<string, string?>? environment, CancellationToken cancellationToken)
    {
        if (undo == (version is not null))
        {
            await error.WriteLineAsync("error: give either --undo or --version <version>.");
            return 2;
        }

        MlflowClientOptions options;
        try
        {
            options = MlflowClientOptions.FromEnvironment(environment);
        }
        catch (FormatException e)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return 78;
        }

        if (options.TrackingUri is null)
        {
            await error.WriteLineAsync("error: MLFLOW_TRACKING_URI is not set: mesh promote needs the MLflow server holding the registry.");
            return 78;
        }

        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var champion = new ChampionAlias(new MlflowClient(http, options));
        try
        {
            var move = undo
                ? await champion.UndoAsync(model, alias, $"{DateTimeOffset.UtcNow:O} mesh promote --undo", cancellationToken)
                : await champion.MoveAsync(model, alias, version!, [new("mesh.promotion", $"{DateTimeOffset.UtcNow:O} mesh promote --version {version}")], cancellationToken);
            await output.WriteLineAsync(move.Moved
                ? $"{model}@{alias}: v{move.Previous ?? "(none)"} -> v{move.Current}"
                : $"{model}@{alias} already points at v{move.Current}");
            return 0;
        }
        catch (Exception e) when (e is InvalidOperationException or MlflowException)
        {
            await error.WriteLineAsync($"error: {e.Message}");
            return 1;
        }
    }
}
