using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Mesh.Cli.Demo;
using Mesh.Cli.Processes;
using Mesh.Cli.Training;
using Mesh.EmbeddedBroker;
using Mesh.Kafka;

namespace Mesh.Cli.Chaos;

/// <summary>
/// `mesh chaos`: the whole mesh on loopback (embedded broker in this process, redis-server, a model host, two routers
/// in one group, the metrics sink with its join state and totals in Redis, the producer with labels) while a killer
/// SIGKILLs a random service every few seconds and starts it again. Bounded in time; at the end an independent reader
/// and the sink's Redis-backed totals say whether anything was lost or counted twice.
/// </summary>
internal static class ChaosRun
{
    private const int Partitions = 4;
    private static readonly TimeSpan s_startup = TimeSpan.FromSeconds(120);
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.Web);

    public static async Task<int> RunAsync(ChaosSettings settings, CancellationToken cancellationToken)
    {
        if (RepositoryRoot.TryFind() is not { } root)
        {
            Console.Error.WriteLine($"error: {RepositoryRoot.NotFoundMessage}");
            return 78;
        }

        var clock = Stopwatch.StartNew();
        var startedAt = DateTime.UtcNow;
        using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bound.CancelAfter(settings.Duration);
        Directory.CreateDirectory(settings.StateDir);
        var logs = Directory.CreateDirectory(Path.Combine(settings.StateDir, "logs")).FullName;
        var models = Path.Combine(settings.StateDir, "models");
        if (!Directory.Exists(models) || Directory.GetFiles(models, "model.onnx", SearchOption.AllDirectories).Length < 2)
        {
            DemoModelTrainer.Train(Path.Combine(root, "data", "iris.csv"), models, TextWriter.Null);
        }

        var topics = new MeshTopics();
        using var broker = EmbeddedKafkaBroker.Start();
        foreach (var topic in topics.All)
        {
            broker.CreateTopic(topic, Partitions);
        }

        using var redis = await RedisProcess.StartAsync(cancellationToken).ConfigureAwait(false);
        Console.WriteLine($"mesh chaos: {settings.Records:N0} records at {settings.Rate}/s, a random one of {string.Join(", ", settings.Victims)} SIGKILLed every {settings.KillEvery.TotalSeconds:F0} s" +
            $"{(settings.MaxKills is { } m ? $" (at most {m})" : "")}, bounded to {settings.Duration.TotalSeconds:F0} s, seed {settings.Seed}. Broker {broker.BootstrapServers}, Redis {redis.Configuration}, logs {logs}.");

        var stack = new ChaosStack(root, settings, broker.BootstrapServers, topics, redis.Configuration, models, logs);
        await using (stack.ConfigureAwait(false))
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            await stack.StartServicesAsync().ConfigureAwait(false);
            foreach (var service in stack.Services)
            {
                if (!await service.WaitHealthyAsync(http, s_startup, bound.Token).ConfigureAwait(false))
                {
                    Console.Error.WriteLine($"error: {service.Name} did not become healthy within {s_startup.TotalSeconds:F0} s (exited: {service.HasExited}); see {logs}.");
                    return 1;
                }
            }

            Console.WriteLine($"{clock.Elapsed.TotalSeconds,5:F0}s  all services healthy; streaming.");
            var producer = await stack.StartProducerAsync().ConfigureAwait(false);
            var kills = new List<ChaosKill>();
            var random = new Random(settings.Seed);
            var victims = stack.Services.Where(s => settings.Victims.Contains(s.Name)).ToList();
            try
            {
                // Kill until the producer is done (or the kill budget is spent): records stream throughout the chaos.
                while (!producer.HasExited && (settings.MaxKills is not { } max || kills.Count < max))
                {
                    await Task.Delay(settings.KillEvery, bound.Token).ConfigureAwait(false);
                    if (producer.HasExited)
                    {
                        break;
                    }

                    var victim = victims[random.Next(victims.Count)];
                    victim.Kill();
                    kills.Add(new ChaosKill(DateTime.UtcNow, victim.Name));
                    Console.WriteLine($"{clock.Elapsed.TotalSeconds,5:F0}s  SIGKILL {victim.Name}; starting it again.");
                    // A moment for the port to be released, as a pod restart also takes.
                    await Task.Delay(500, bound.Token).ConfigureAwait(false);
                    await victim.StartAsync().ConfigureAwait(false);
                }

                var produced = await producer.WaitForExitAsync(settings.Duration).ConfigureAwait(false);
                Console.WriteLine($"{clock.Elapsed.TotalSeconds,5:F0}s  producer done (exit {produced}); {kills.Count} kill(s); waiting for the mesh to settle.");
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                Console.WriteLine($"{clock.Elapsed.TotalSeconds,5:F0}s  the --duration bound was reached; checking what got through.");
            }

            var (audit, summary) = await SettleAsync(stack, http, broker.BootstrapServers, topics, settings.Records, bound.Token).ConfigureAwait(false);
            var report = new ChaosReport(settings.Records, audit, summary, stack.Services.ToDictionary(v => v.Name, v => v.Kills), new ChaosTimeline(startedAt, kills), clock.Elapsed);
            report.Print(Console.Out);
            return report.Passed ? 0 : 1;
        }
    }

    // Polls until every record is predicted and joined (or the bound ends), then reads once more for the report.
    private static async Task<(TopicAuditResult Audit, DemoSummary? Summary)> SettleAsync(
        ChaosStack stack, HttpClient http, string bootstrapServers, MeshTopics topics, int records, CancellationToken bound)
    {
        var audit = TopicAudit.Read(bootstrapServers, topics, Partitions);
        var summary = await ReadSummaryAsync(http, stack.SinkPort).ConfigureAwait(false);
        while (!bound.IsCancellationRequested && !(audit.Lost == 0 && audit.Sent >= records && summary is { } s && s.Joined >= audit.Predicted))
        {
            try
            {
                await Task.Delay(TimeSpan.FromSeconds(3), bound).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            audit = TopicAudit.Read(bootstrapServers, topics, Partitions);
            summary = await ReadSummaryAsync(http, stack.SinkPort).ConfigureAwait(false) ?? summary;
        }

        // A last look after a few seconds more: anything counted twice late would show here.
        await Task.Delay(TimeSpan.FromSeconds(3), CancellationToken.None).ConfigureAwait(false);
        return (TopicAudit.Read(bootstrapServers, topics, Partitions),
            await ReadSummaryAsync(http, stack.SinkPort).ConfigureAwait(false) ?? summary);
    }

    private static async Task<DemoSummary?> ReadSummaryAsync(HttpClient http, int port)
    {
        try
        {
            return await http.GetFromJsonAsync<DemoSummary>(new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}/api/summary"), s_json).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
            // The sink may be restarting.
            return null;
        }
    }
}
