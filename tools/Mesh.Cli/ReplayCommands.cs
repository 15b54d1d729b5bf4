using System.CommandLine;
using Mesh.Cli.DeadLetters;
using Mesh.Kafka;

namespace Mesh.Cli;

/// <summary>
/// <c>mesh dead-letters list|replay</c> and <c>mesh evaluate-policy</c>: what the mesh already records (dead letters,
/// logged predictions), put to use. The work lives in <c>DeadLetters/</c> and <c>PolicyEvaluation/</c>.
/// </summary>
internal static class ReplayCommands
{
    private const int BadConfiguration = 78;

    public static Command DeadLetters()
    {
        var command = new Command("dead-letters", "Inspect the dead-letter topic and send chosen dead letters back into the stream.");
        command.Subcommands.Add(DeadLettersList());
        command.Subcommands.Add(DeadLettersReplay());
        return command;
    }

    public static Command DeadLettersList()
    {
        var kafka = new KafkaArguments();
        var filter = new FilterArguments();
        var format = FormatOption();
        var command = new Command("list", "Group what is in the dead-letter topic by reason, service, experiment and arm, with counts and a sample. Reads to the end once; commits nothing.");
        kafka.AddTo(command);
        filter.AddTo(command);
        command.Options.Add(format);
        command.SetAction((result, token) => Guarded(() => DeadLetterListCommand.Run(
            new DeadLetterListSettings(kafka.Resolve(result), result.GetValue(kafka.Topic)!, filter.Read(result), IsJson(result.GetValue(format))),
            Console.Out,
            token)));
        return command;
    }

    public static Command DeadLettersReplay()
    {
        var kafka = new KafkaArguments();
        var filter = new FilterArguments();
        var to = new Option<string?>("--to") { Description = "Send every record to this topic instead of its dead letter's source topic." };
        var fixes = new Option<string[]>("--fix") { Description = $"Repair each FeatureRecord before sending (repeatable, applied in order): {FeatureFixUp.Names}.", AllowMultipleArgumentsPerToken = true };
        var maxAttempts = new Option<int>("--max-attempts") { Description = "Do not send a dead letter whose failed attempt reached this.", DefaultValueFactory = _ => 3 };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print what would be sent, send nothing." };
        var skipPredicted = new Option<bool>("--skip-predicted") { Description = "Skip dead letters whose request id already has a Prediction (reads the predictions topic once)." };
        var predictions = new Option<string>("--predictions-topic") { Description = "The predictions topic --skip-predicted reads.", DefaultValueFactory = _ => new MeshTopics().Predictions };
        var command = new Command("replay", "Send chosen dead letters back to their source topic (or --to), unchanged or through a fix-up, with replay headers. Exit 1 when any could not be sent.")
        {
            to, fixes, maxAttempts, dryRun, skipPredicted, predictions,
        };
        kafka.AddTo(command);
        filter.AddTo(command);
        command.SetAction((result, token) => Guarded(() =>
        {
            var attempts = result.GetValue(maxAttempts);
            if (attempts <= 0)
            {
                throw new ArgumentException($"--max-attempts must be positive, got {attempts}.");
            }

            var rules = new ReplayRules(
                string.IsNullOrWhiteSpace(result.GetValue(to)) ? null : result.GetValue(to),
                [.. (result.GetValue(fixes) ?? []).Select(FeatureFixUp.Parse)],
                attempts,
                Predicted: null);
            var settings = new DeadLetterReplaySettings(
                kafka.Resolve(result),
                result.GetValue(kafka.Topic)!,
                filter.Read(result),
                rules,
                result.GetValue(dryRun),
                result.GetValue(skipPredicted) ? result.GetValue(predictions) : null);
            return DeadLetterReplayCommand.Run(settings, Console.Out, Console.IsErrorRedirected ? null : Console.Error, token);
        }));
        return command;
    }

    private static Option<string> FormatOption() =>
        new("--format") { Description = "table or json.", DefaultValueFactory = _ => "table" };

    private static bool IsJson(string? format) => format?.ToLowerInvariant() switch
    {
        "json" => true,
        "table" or null => false,
        _ => throw new FormatException($"--format '{format}' is not one of: table, json."),
    };

    // A setting the tool cannot use ends the command with one line naming it, and the exit code for bad configuration.
    private static Task<int> Guarded(Func<int> run)
    {
        try
        {
            return Task.FromResult(run());
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return Task.FromResult(BadConfiguration);
        }
    }

    /// <summary>Where the cluster is: <c>--bootstrap-servers</c>, else the file the embedded broker writes, as the services do.</summary>
    private sealed class KafkaArguments
    {
        public Option<string?> Servers { get; } = new("--bootstrap-servers") { Description = "Kafka bootstrap servers (default: the address the embedded broker wrote to --bootstrap-file)." };

        public Option<string> File { get; } = new("--bootstrap-file") { Description = "Where the embedded broker publishes its address.", DefaultValueFactory = _ => KafkaOptions.DefaultBootstrapFile };

        public Option<string> Topic { get; } = new("--topic") { Description = "The dead-letter topic.", DefaultValueFactory = _ => new MeshTopics().DeadLetter };

        public void AddTo(Command command)
        {
            command.Options.Add(Servers);
            command.Options.Add(File);
            command.Options.Add(Topic);
        }

        public string Resolve(ParseResult result) => BootstrapResolver.Resolve(new KafkaOptions
        {
            BootstrapServers = result.GetValue(Servers),
            BootstrapFile = result.GetValue(File)!,
            BootstrapWaitSeconds = 0,
        });
    }

    private sealed class FilterArguments
    {
        private readonly Option<string?> _since = new("--since") { Description = "Only dead letters from this time on: ISO 8601 (UTC unless it says) or an age (30m, 2h, 7d)." };
        private readonly Option<string?> _until = new("--until") { Description = "Only dead letters before this time (same forms as --since)." };
        private readonly Option<string?> _reason = new("--reason") { Description = "Only reasons (error class and message) containing this text, ignoring case." };
        private readonly Option<string?> _service = new("--service") { Description = "Only dead letters written by this service (router, consumer, metrics-sink, ...)." };
        private readonly Option<string?> _experiment = new("--experiment") { Description = "Only dead letters of this experiment." };
        private readonly Option<int[]> _partitions = new("--partition") { Description = "Only these partitions of the dead-letter topic (repeatable).", AllowMultipleArgumentsPerToken = true };
        private readonly Option<string[]> _offsets = new("--offset") { Description = "Only these offsets of the dead-letter topic: 10-20, 10- or 15 (repeatable).", AllowMultipleArgumentsPerToken = true };

        public void AddTo(Command command)
        {
            foreach (var option in new Option[] { _since, _until, _reason, _service, _experiment, _partitions, _offsets })
            {
                command.Options.Add(option);
            }
        }

        public DeadLetterFilter Read(ParseResult result)
        {
            var now = DateTime.UtcNow;
            return new DeadLetterFilter(
                TimeArgument.Parse(result.GetValue(_since), "--since", now),
                TimeArgument.Parse(result.GetValue(_until), "--until", now),
                result.GetValue(_reason),
                result.GetValue(_service),
                result.GetValue(_experiment),
                (result.GetValue(_partitions) ?? []).ToHashSet(),
                [.. (result.GetValue(_offsets) ?? []).Select(OffsetRange.Parse)]);
        }
    }
}
