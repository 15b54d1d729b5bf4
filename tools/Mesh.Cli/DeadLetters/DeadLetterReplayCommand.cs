using Confluent.Kafka;

namespace Mesh.Cli.DeadLetters;

/// <summary>
/// <c>mesh dead-letters replay</c>: the chosen dead letters back to their source topic (or <c>--to</c>), with their
/// key, request id, headers and value (after fix-ups), plus the replay headers. Exit 1 when any record could not be sent.
/// </summary>
internal static class DeadLetterReplayCommand
{
    public static int Run(DeadLetterReplaySettings settings, TextWriter output, TextWriter? progress, CancellationToken cancellationToken)
    {
        var reader = new TopicSnapshotReader(settings.BootstrapServers);
        var snapshot = new DeadLetterSource(reader).Read(settings.Topic, cancellationToken);
        var rules = settings.SkipPredictedTopic is { } predictions
            ? settings.Rules with { Predicted = PredictedRequestIds(reader, predictions, cancellationToken) }
            : settings.Rules;
        var plan = ReplayPlanner.Plan(snapshot.Entries.Where(settings.Filter.Matches), rules);
        foreach (var (entry, reason) in plan.NotSendable)
        {
            output.WriteLine($"cannot send {entry.Coordinates}: {reason}");
        }

        if (settings.DryRun)
        {
            foreach (var item in plan.Items)
            {
                output.WriteLine($"would send {item.Entry.Coordinates} -> {item.Topic} request {item.RequestId}, attempt {item.Entry.Attempt + 1} ({item.Entry.Reason})");
            }

            WriteSummary(output, plan, acknowledged: 0, failed: 0, dryRun: true);
            return plan.NotSendable.Count > 0 ? 1 : 0;
        }

        ReplayDelivery delivery;
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig
        {
            BootstrapServers = settings.BootstrapServers,
            ClientId = "mesh-cli-replay",
            EnableIdempotence = true,
            Acks = Acks.All,
            // A record the cluster cannot take within this is reported failed rather than retried forever.
            MessageTimeoutMs = 60_000,
        }).Build())
        {
            var bar = progress is null ? null : new ReplayProgressBar(progress, plan.Items.Count, TimeProvider.System);
            delivery = new ReplaySender(producer).Send(plan.Items, bar, cancellationToken);
        }

        foreach (var (item, reason) in delivery.Failures)
        {
            output.WriteLine($"failed {item.Entry.Coordinates} -> {item.Topic}: {reason}");
        }

        WriteSummary(output, plan, delivery.Acknowledged, delivery.Failures.Count, dryRun: false);
        return delivery.Failures.Count > 0 || plan.NotSendable.Count > 0 ? 1 : 0;
    }

    private static HashSet<string> PredictedRequestIds(TopicSnapshotReader reader, string topic, CancellationToken cancellationToken)
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        foreach (var record in reader.Read(topic, cancellationToken))
        {
            var id = RecordValue.RequestId(record.Message.Value);
            if (id.Length > 0)
            {
                ids.Add(id);
            }
        }

        return ids;
    }

    private static void WriteSummary(TextWriter output, ReplayPlan plan, int acknowledged, int failed, bool dryRun)
    {
        var replayed = dryRun ? $"would replay {plan.Items.Count:N0}" : $"replayed {acknowledged:N0}";
        output.WriteLine(
            $"{replayed}; skipped as already predicted {plan.SkippedAsPredicted:N0}; skipped for attempts {plan.SkippedForAttempts:N0}; " +
            $"skipped as superseded by a later attempt {plan.SkippedAsSuperseded:N0}; failed {failed + plan.NotSendable.Count:N0}");
    }
}
