using System.CommandLine;
using System.Runtime.InteropServices;
using Mesh.Cli.Bench;
using Mesh.Cli.Broker;
using Mesh.Cli.Demo;
using Mesh.Cli.Training;
using Mesh.Kafka;

namespace Mesh.Cli;

/// <summary>The command tree of <c>mesh</c>; each command's work lives in its folder.</summary>
internal static class Commands
{
    public static Command Broker()
    {
        var topics = new MeshTopics();
        var partitions = new Option<int>("--partitions") { Description = "Partitions per mesh topic.", DefaultValueFactory = _ => 4 };
        var brokers = new Option<int>("--brokers") { Description = "Brokers in the cluster.", DefaultValueFactory = _ => 1 };
        var file = new Option<string>("--bootstrap-file") { Description = "Where to write the bootstrap address.", DefaultValueFactory = _ => KafkaOptions.DefaultBootstrapFile };
        var topicNames = new Option<string[]>("--topic") { Description = "Topics to create (repeatable).", DefaultValueFactory = _ => [.. topics.All], AllowMultipleArgumentsPerToken = true };
        var groups = new Option<string[]>("--watch-group") { Description = "Consumer groups whose lag is watched (repeatable).", DefaultValueFactory = _ => ["mesh-router", "mesh-consumer", "mesh-metrics-sink"], AllowMultipleArgumentsPerToken = true };
        var port = new Option<int?>("--port") { Description = "Listen on fixed 127.0.0.1 ports, from this one (one per broker), so a restarted broker is found again at the same address; 0 (one broker): a port the system picks, printed and written to the bootstrap file." };
        var lagWarn = new Option<long>("--lag-warn-records") { Description = "Warn when a group lags this many records on a partition.", DefaultValueFactory = _ => 40_000 };
        var command = new Command("broker", "Run the embedded Kafka-protocol broker (librdkafka's mock cluster) on 127.0.0.1 until Ctrl-C or SIGTERM.")
        {
            partitions, brokers, file, topicNames, groups, lagWarn, port,
        };
        command.SetAction((result, token) => WithTermination(token, t => BrokerCommand.RunAsync(
            new BrokerSettings(
                Positive(result.GetValue(partitions), "--partitions"),
                Positive(result.GetValue(brokers), "--brokers"),
                result.GetValue(file)!,
                result.GetValue(topicNames)!,
                result.GetValue(groups)!,
                result.GetValue(lagWarn),
                LagCheckSeconds: 5,
                result.GetValue(port) is { } p ? (p == 0 ? 0 : Positive(p, "--port")) : null),
            t)));
        return command;
    }

    public static Command Train()
    {
        var data = new Option<string>("--data") { Description = "The iris CSV.", DefaultValueFactory = _ => Path.Combine("data", "iris.csv") };
        var output = new Option<string>("--output") { Description = "Model repository to write (<name>/<version>/model.onnx).", DefaultValueFactory = _ => Path.Combine(".mesh", "models") };
        var candidate = new Option<bool>("--with-candidate") { Description = $"Also train {DemoModelTrainer.CandidateName}, the demo's shadow model." };
        var command = new Command("train", $"Train the demo iris classifiers with ML.NET on four rows in five of each species and export them to ONNX model folders; the held-out rows go to {DemoModelTrainer.HoldoutFileName} beside them.") { data, output, candidate };
        command.SetAction(result =>
        {
            var dataPath = result.GetValue(data)!;
            if (!File.Exists(dataPath))
            {
                Console.Error.WriteLine($"error: --data '{dataPath}' does not exist.");
                return 2;
            }

            var models = DemoModelTrainer.Train(dataPath, result.GetValue(output)!, Console.Out, result.GetValue(candidate));
            foreach (var model in models)
            {
                Console.WriteLine($"{model.Name} v{model.Version}: training accuracy {model.TrainingAccuracy:P1}, held-out accuracy {model.HoldoutAccuracy:P1} -> {model.ModelPath}");
            }

            return 0;
        });
        return command;
    }

    public static Command Demo()
    {
        var duration = new Option<int>("--duration") { Description = "Seconds of streaming.", DefaultValueFactory = _ => 45 };
        var rate = new Option<int>("--rate") { Description = "Feature records per second.", DefaultValueFactory = _ => 200 };
        var appHost = new Option<string?>("--apphost") { Description = "Path of the built Mesh.AppHost.dll (found under tools/ by default)." };
        var configuration = new Option<string>("--configuration") { Description = "Build configuration to look for.", DefaultValueFactory = _ => "Release" };
        var state = new Option<string>("--state-dir") { Description = "Folder for models, run files and results.", DefaultValueFactory = _ => ".mesh" };
        var dashboard = new Option<bool>("--dashboard") { Description = "Also start the Aspire dashboard." };
        var drift = new Option<string>("--drift") { Description = "The feature whose mean moves halfway through (by 1.5 standard deviations), for the page to flag; 'none' for no drift.", DefaultValueFactory = _ => "sepal_width" };
        var command = new Command("demo", "Start the whole mesh through the Aspire AppHost and stream held-out iris rows through an A/B test with a shadow and a Thompson-sampling bandit, with a drift halfway; print the per-arm results.")
        {
            duration, rate, appHost, configuration, state, dashboard, drift,
        };
        command.SetAction((result, token) => WithTermination(token, t => DemoCommand.RunAsync(
            new DemoSettings(
                Positive(result.GetValue(duration), "--duration"),
                Positive(result.GetValue(rate), "--rate"),
                result.GetValue(appHost),
                result.GetValue(configuration)!,
                Path.GetFullPath(result.GetValue(state)!),
                result.GetValue(dashboard),
                DriftFeature(result.GetValue(drift)!)),
            t)));
        return command;
    }

    private static string? DriftFeature(string value)
    {
        if (string.Equals(value, "none", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        return DemoModelTrainer.FeatureNames.Contains(value, StringComparer.Ordinal)
            ? value
            : throw new ArgumentException($"--drift must be one of {string.Join(", ", DemoModelTrainer.FeatureNames)} or none, got '{value}'.");
    }

    public static Command Bench()
    {
        var records = new Option<int>("--records") { Description = "Records per saturation run.", DefaultValueFactory = _ => 100_000 };
        var perMessage = new Option<int>("--per-message-records") { Description = "Records per saturation run of the per-message mesh.", DefaultValueFactory = _ => 10_000 };
        var runs = new Option<int>("--runs") { Description = "Runs per scenario (the table shows the median and the spread).", DefaultValueFactory = _ => 3 };
        var loads = new Option<double[]>("--load") { Description = "Offered loads (records/s) for the latency runs; 50% of saturation is always added.", DefaultValueFactory = _ => [1_000, 5_000, 10_000], AllowMultipleArgumentsPerToken = true };
        var loadSeconds = new Option<double>("--load-seconds") { Description = "Seconds per latency run.", DefaultValueFactory = _ => 3 };
        var scenarios = new Option<string[]>("--scenario") { Description = "fused, mesh, mesh-framed (the mesh in Confluent's wire format), mesh-per-message (repeatable).", DefaultValueFactory = _ => ["fused", "mesh", "mesh-framed", "mesh-per-message"], AllowMultipleArgumentsPerToken = true };
        var registry = new Option<string>("--schema-registry") { Description = "The schema registry of mesh-framed: its URL (auth from the Kafka__SchemaRegistry__* environment variables the services read), or 'local': a Confluent-compatible stand-in in the benchmark's process.", DefaultValueFactory = _ => "local" };
        var configuration = new Option<string>("--configuration") { Description = "Build configuration of the services.", DefaultValueFactory = _ => "Release" };
        var output = new Option<string>("--output") { Description = "Folder for bench.json and bench.md.", DefaultValueFactory = _ => Path.Combine("artifacts", "bench") };
        var docs = new Option<string?>("--docs") { Description = "Also write this run's section of this Markdown document (e.g. docs/benchmarks.md); the rest of the page is kept." };
        var quick = new Option<bool>("--quick") { Description = "A run of a few minutes: 20,000 records (2,000 per message), 2 runs, 2 s per latency run, 8 s of warm-up, unless those options are given." };
        var warmUp = new Option<double>("--warm-up") { Description = "Seconds each scenario's fresh processes run flat out before a run is measured (one round of records at least).", DefaultValueFactory = _ => 15 };
        var soak = new Option<double>("--soak") { Description = "After the runs, a soak of this many minutes (at most 60): the mesh at a steady load, memory and records owed sampled every 10 s.", DefaultValueFactory = _ => 0 };
        var soakRate = new Option<double?>("--soak-rate") { Description = "Records/s offered during the soak (default: half of the mesh's saturation in this run)." };
        var command = new Command("bench", "Measure the mesh against the fused in-process baseline, the mesh framed through a schema registry and the per-message mesh: throughput, latency, CPU, memory.")
        {
            records, perMessage, runs, loads, loadSeconds, scenarios, registry, configuration, output, docs, quick, warmUp, soak, soakRate,
        };
        command.SetAction((result, token) => WithTermination(token, t => BenchCommand.RunAsync(
            new BenchSettings(
                Positive(QuickOr(result, quick, records, 20_000), "--records"),
                Positive(QuickOr(result, quick, perMessage, 2_000), "--per-message-records"),
                Positive(QuickOr(result, quick, runs, 2), "--runs"),
                result.GetValue(loads)!,
                QuickOr(result, quick, loadSeconds, 2.0),
                result.GetValue(scenarios)!,
                result.GetValue(configuration)!,
                Path.GetFullPath(result.GetValue(output)!),
                result.GetValue(docs) is { } d ? Path.GetFullPath(d) : null,
                result.GetValue(soak) is var minutes and >= 0 and <= 60 ? minutes : throw new ArgumentOutOfRangeException("--soak", $"--soak must be between 0 and 60 minutes, got {result.GetValue(soak)}."),
                result.GetValue(soakRate) is not { } r || r > 0 ? result.GetValue(soakRate) : throw new ArgumentOutOfRangeException("--soak-rate", $"--soak-rate must be positive, got {r}."),
                NotNegative(QuickOr(result, quick, warmUp, 8.0), "--warm-up"),
                result.GetValue(registry)!),
            t)));
        return command;
    }

    /// <summary>The option's value; with <c>--quick</c> and the option not given, the quick run's value instead.</summary>
    private static T QuickOr<T>(ParseResult result, Option<bool> quick, Option<T> option, T quickValue) =>
        result.GetValue(quick) && result.GetResult(option) is null or { Implicit: true } ? quickValue : result.GetValue(option)!;

    private static double NotNegative(double value, string name) =>
        value >= 0 ? value : throw new ArgumentOutOfRangeException(name, $"{name} must be 0 or more, got {value}.");

    private static int Positive(int value, string name) =>
        value > 0 ? value : throw new ArgumentOutOfRangeException(name, $"{name} must be positive, got {value}.");

    // Ctrl-C is handled by System.CommandLine; SIGTERM (how orchestrators and the AppHost stop us) must cancel too.
    private static async Task<int> WithTermination(CancellationToken token, Func<CancellationToken, Task<int>> run)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(token);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            cts.Cancel();
        });
        return await run(cts.Token).ConfigureAwait(false);
    }
}
