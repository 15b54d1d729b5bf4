using System.CommandLine;
using Mesh.Cli.DeadLetters;
using Mesh.Cli.PolicyEvaluation;
using Mesh.Kafka;
using Mesh.Mlflow;

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
        var topic = DeadLetterTopicOption();
        var filter = new FilterArguments();
        var format = FormatOption();
        var command = new Command("list", "Group what is in the dead-letter topic by reason, service, experiment and arm, with counts and a sample. Reads to the end once; commits nothing.") { topic };
        kafka.AddTo(command);
        filter.AddTo(command);
        command.Options.Add(format);
        command.SetAction((result, token) => Guarded(() => DeadLetterListCommand.Run(
            new DeadLetterListSettings(kafka.Resolve(result), result.GetValue(topic)!, filter.Read(result), IsJson(result.GetValue(format))),
            Console.Out,
            token)));
        return command;
    }

    public static Command DeadLettersReplay()
    {
        var kafka = new KafkaArguments();
        var topic = DeadLetterTopicOption();
        var filter = new FilterArguments();
        var to = new Option<string?>("--to") { Description = "Send every record to this topic instead of its dead letter's source topic." };
        var fixes = new Option<string[]>("--fix") { Description = $"Repair each FeatureRecord before sending (repeatable, applied in order): {FeatureFixUp.Names}.", AllowMultipleArgumentsPerToken = true };
        var maxAttempts = new Option<int>("--max-attempts") { Description = "Do not send a dead letter whose failed attempt reached this.", DefaultValueFactory = _ => 3 };
        var dryRun = new Option<bool>("--dry-run") { Description = "Print what would be sent, send nothing." };
        var skipPredicted = new Option<bool>("--skip-predicted") { Description = "Skip dead letters whose request id already has a Prediction (reads the predictions topic once)." };
        var predictions = new Option<string>("--predictions-topic") { Description = "The predictions topic --skip-predicted reads.", DefaultValueFactory = _ => new MeshTopics().Predictions };
        var command = new Command("replay", "Send chosen dead letters back to their source topic (or --to), unchanged or through a fix-up, with replay headers. Exit 1 when any could not be sent.")
        {
            topic, to, fixes, maxAttempts, dryRun, skipPredicted, predictions,
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
                result.GetValue(topic)!,
                filter.Read(result),
                rules,
                result.GetValue(dryRun),
                result.GetValue(skipPredicted) ? result.GetValue(predictions) : null);
            return DeadLetterReplayCommand.Run(settings, Console.Out, Console.IsErrorRedirected ? null : Console.Error, token);
        }));
        return command;
    }

    public static Command EvaluatePolicy()
    {
        var kafka = new KafkaArguments();
        var topics = new MeshTopics();
        var predictionsFile = new Option<string?>("--predictions") { Description = "Read Predictions from this file instead of the topic: the consumer's JSON lines or Parquet (.parquet)." };
        var predictionsTopic = new Option<string>("--predictions-topic") { Description = "The predictions topic.", DefaultValueFactory = _ => topics.Predictions };
        var labelsFile = new Option<string?>("--labels") { Description = "Read Labels from this JSON-lines file instead of the topic." };
        var labelsTopic = new Option<string>("--labels-topic") { Description = "The labels topic.", DefaultValueFactory = _ => topics.Labels };
        var experiment = new Option<string?>("--experiment") { Description = "The experiment whose traffic to use (needed when the predictions hold several)." };
        var always = new Option<string[]>("--always") { Description = "Candidate: always this arm (repeatable).", AllowMultipleArgumentsPerToken = true };
        var weights = new Option<string[]>("--weights") { Description = "Candidate: A/B weights, e.g. logreg=80,boosted=20 (repeatable).", AllowMultipleArgumentsPerToken = true };
        var epsilon = new Option<double[]>("--epsilon-greedy") { Description = "Candidate: an epsilon-greedy bandit with this epsilon, greedy on the logged mean rewards (repeatable).", AllowMultipleArgumentsPerToken = true };
        var thompson = new Option<bool>("--thompson") { Description = "Candidate: a Thompson-sampling bandit (Beta-Bernoulli) after the logged rewards, which must be in [0, 1]." };
        var reward = new Option<string>("--reward") { Description = "correct (the prediction matches the label: 1/0) or numeric (the label's numeric value).", DefaultValueFactory = _ => "correct" };
        var minPropensity = new Option<double>("--min-propensity") { Description = "Warn when the candidate uses an arm the logging policy chose with a probability below this.", DefaultValueFactory = _ => 0.05 };
        var format = FormatOption();
        var mlflow = new Option<bool>("--mlflow") { Description = "Log one MLflow run per candidate: to MLFLOW_TRACKING_URI when set, else to --tracking-dir." };
        var mlflowExperiment = new Option<string>("--mlflow-experiment") { Description = "The MLflow experiment for those runs.", DefaultValueFactory = _ => "mesh-policy-evaluation" };
        var trackingDir = new Option<string>("--tracking-dir") { Description = "Local tracking folder (MLflow's file layout) when MLFLOW_TRACKING_URI is not set.", DefaultValueFactory = _ => "~/.mesh/tracking" };
        var command = new Command("evaluate-policy", "Estimate how candidate policies would have done on logged Predictions joined with Labels: IPS, self-normalised IPS, doubly robust. Exit 2 when a candidate needs an arm never logged.")
        {
            predictionsFile, predictionsTopic, labelsFile, labelsTopic, experiment, always, weights, epsilon, thompson, reward, minPropensity, format, mlflow, mlflowExperiment, trackingDir,
        };
        kafka.AddTo(command);
        command.SetAction((result, token) => GuardedAsync(() =>
        {
            var candidates = new List<CandidateFactory>();
            foreach (var arm in result.GetValue(always) ?? [])
            {
                var policy = CandidatePolicy.Always(arm);
                candidates.Add(_ => policy);
            }

            foreach (var text in result.GetValue(weights) ?? [])
            {
                var policy = CandidatePolicy.Weights(text);
                candidates.Add(_ => policy);
            }

            foreach (var e in result.GetValue(epsilon) ?? [])
            {
                if (!(e >= 0 && e <= 1))
                {
                    throw new FormatException($"--epsilon-greedy {e}: epsilon must be between 0 and 1.");
                }

                candidates.Add(decisions => CandidatePolicy.EpsilonGreedy(e, OffPolicyEstimator.ArmMeans(decisions)));
            }

            if (result.GetValue(thompson))
            {
                candidates.Add(decisions => decisions.All(d => d.Reward is >= 0 and <= 1)
                    ? CandidatePolicy.Thompson(OffPolicyEstimator.ArmRewards(decisions))
                    : throw new ArgumentException("--thompson needs rewards in [0, 1]; these labels' numeric values are not."));
            }

            var min = result.GetValue(minPropensity);
            if (!(min >= 0 && min < 1))
            {
                throw new ArgumentException($"--min-propensity must be in [0, 1), got {min}.");
            }

            var settings = new EvaluatePolicySettings(
                () => kafka.Resolve(result),
                result.GetValue(predictionsFile),
                result.GetValue(predictionsTopic)!,
                result.GetValue(labelsFile),
                result.GetValue(labelsTopic)!,
                result.GetValue(experiment),
                candidates,
                result.GetValue(reward)?.ToLowerInvariant() switch
                {
                    "correct" => RewardKind.Correct,
                    "numeric" => RewardKind.Numeric,
                    var other => throw new FormatException($"--reward '{other}' is not one of: correct, numeric."),
                },
                new EstimatorSettings(MinPropensity: min),
                IsJson(result.GetValue(format)),
                result.GetValue(mlflowExperiment)!);
            var tracking = result.GetValue(mlflow) ? Tracking(result.GetValue(trackingDir)!) : null;
            return EvaluatePolicyCommand.RunAsync(settings, Console.Out, Console.Error, tracking, token);
        }));
        return command;
    }

    // As the metrics sink chooses: a tracking server when MLFLOW_TRACKING_URI is set, else MLflow's file layout in a folder.
    private static IMlflowTracking Tracking(string folder)
    {
        var options = MlflowClientOptions.FromEnvironment();
        if (options.TrackingUri is not null)
        {
            return new MlflowTrackingClient(new MlflowClient(new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, options));
        }

        if (folder == "~" || folder.StartsWith("~/", StringComparison.Ordinal))
        {
            folder = Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), folder.Length > 2 ? folder[2..] : "");
        }

        return new LocalTrackingStore(folder);
    }

    private static Option<string> DeadLetterTopicOption() =>
        new("--topic") { Description = "The dead-letter topic.", DefaultValueFactory = _ => new MeshTopics().DeadLetter };

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

    private static async Task<int> GuardedAsync(Func<Task<int>> run)
    {
        try
        {
            return await run().ConfigureAwait(false);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            return BadConfiguration;
        }
    }

    /// <summary>Where the cluster is: <c>--bootstrap-servers</c>, else the file the embedded broker writes, as the services do.</summary>
    private sealed class KafkaArguments
    {
        public Option<string?> Servers { get; } = new("--bootstrap-servers") { Description = "Kafka bootstrap servers (default: the address the embedded broker wrote to --bootstrap-file)." };

        public Option<string> File { get; } = new("--bootstrap-file") { Description = "Where the embedded broker publishes its address.", DefaultValueFactory = _ => KafkaOptions.DefaultBootstrapFile };

        public void AddTo(Command command)
        {
            command.Options.Add(Servers);
            command.Options.Add(File);
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
