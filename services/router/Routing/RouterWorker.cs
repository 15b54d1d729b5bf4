using Confluent.Kafka;
using Mesh.Kafka;
using Mesh.Router.Experiments;
using Mesh.Router.Options;
using Mesh.Router.Telemetry;
using Microsoft.Extensions.Options;

namespace Mesh.Router.Routing;

/// <summary>
/// The consume loop: the blocking Consume runs on its own long-running thread and hands each record to the
/// <see cref="RoutingPipeline"/>. Fatal Kafka errors and unexpected failures stop the process with a non-zero
/// exit; a clean stop drains in-flight batches, flushes the producer, commits stored offsets and closes.
/// </summary>
internal sealed partial class RouterWorker(
    IServiceProvider services,
    KafkaClientFactory kafka,
    IOptions<RouterOptions> options,
    RouterState state,
    IHostApplicationLifetime lifetime,
    ILogger<RouterWorker> logger) : ConsumeLoopService
{
    // Without records, the loop still wakes this often to store the offsets that completed meanwhile.
    private static readonly TimeSpan s_idlePoll = TimeSpan.FromMilliseconds(100);

    // Records fetched while the partitions were being paused; handled, in order, before the next Consume.
    private readonly StashedRecords _stash = new();
    private volatile bool _lost;

    protected override void Run(CancellationToken stoppingToken)
    {
        ExperimentRegistry registry;
        RoutingPipeline pipeline;
        IProducer<byte[], byte[]> producer;
        try
        {
            // Resolved here, not in the constructor: resolving the cluster address and waiting for model hosts
            // may take a while, and the host (health endpoints included) should be up meanwhile.
            registry = services.GetRequiredService<ExperimentRegistry>();
            pipeline = services.GetRequiredService<RoutingPipeline>();
            producer = services.GetRequiredService<IProducer<byte[], byte[]>>();
            // The meter provider listens by now (it starts before this service), so the zeros reach /metrics.
            services.GetRequiredService<RouterTelemetry>().AddZeros(ErrorClass.All);
            // Loads the spec and waits for every arm's model, bounded by Router:ModelWaitSeconds.
            registry.ReloadFromFileAsync(options.Value.ExperimentFile, force: true, stoppingToken).GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e)
        {
            state.Set(RouterStatus.Failed);
            FatalError.Stop(lifetime, logger, "The router cannot start: " + e.Message);
            return;
        }

        var batchers = services.GetRequiredService<ArmBatchers>();
        var completion = services.GetRequiredService<RecordCompletion>();
        var transactions = options.Value.ExactlyOnce.Enabled
            ? new TransactionalCommitter(producer, batchers, TimeSpan.FromMilliseconds(options.Value.ExactlyOnce.CommitIntervalMs), logger)
            : null;
        var rebalance = services.GetRequiredService<RebalanceHandler>();
        using var consumer = transactions is not null
            ? CreateTransactionalConsumer(transactions, completion)
            : kafka.CreateConsumer(
                options.Value.GroupId,
                ClientId,
                onFatal: error => FatalError.Stop(lifetime, logger, $"Fatal consumer error {error.Code}: {error.Reason}"),
                onRevoked: (c, partitions) =>
                {
                    // Handled here, they would be handled twice: by this router after the move and by the new owner.
                    _stash.Remove(partitions.Select(p => p.TopicPartition));
                    rebalance.OnRevoked(c, partitions);
                },
                onLost: (_, partitions) =>
                {
                    _stash.Remove(partitions.Select(p => p.TopicPartition));
                    completion.Forget(partitions.Select(p => p.TopicPartition));
                });
        try
        {
            transactions?.Start();
            var pauser = new ConsumePauser(consumer, _stash, completion, logger);
            state.Set(RouterStatus.Consuming);
            Consume(consumer, registry, pipeline, pauser, batchers, completion, transactions, stoppingToken);
            state.Set(RouterStatus.Stopping);
            if (transactions is not null)
            {
                ShutdownTransactional(consumer, transactions);
            }
            else
            {
                Shutdown(consumer, producer, batchers, completion);
            }
        }
        catch (KafkaException e) when (e.Error.IsFatal || transactions is not null)
        {
            // In exactly-once mode any failed transaction call ends the process: the restarted router resumes from
            // the last committed transaction, which is simpler and safer than rewinding positions in place.
            transactions?.Abort();
            state.Set(RouterStatus.Failed);
            FatalError.Stop(lifetime, logger, $"Fatal Kafka error {e.Error.Code}: {e.Error.Reason}", e);
        }
        catch (Exception e)
        {
            state.Set(RouterStatus.Failed);
            FatalError.Stop(lifetime, logger, "The consume loop failed", e);
        }
    }

    private void Consume(
        IConsumer<byte[], byte[]> consumer,
        ExperimentRegistry registry,
        RoutingPipeline pipeline,
        IConsumePauser pauser,
        ArmBatchers batchers,
        RecordCompletion completion,
        TransactionalCommitter? transactions,
        CancellationToken stoppingToken)
    {
        ExperimentSet? subscribedSet = null;
        string[] subscribed = [];
        var poll = transactions is null ? s_idlePoll : TimeSpan.FromMilliseconds(options.Value.ExactlyOnce.CommitIntervalMs);
        var closeWhenIdle = options.Value.Batching.CloseWhenIdle;
        while (!stoppingToken.IsCancellationRequested && !_lost)
        {
            completion.StoreReady(consumer);
            if (transactions is not null && transactions.Due)
            {
                transactions.Commit(consumer);
            }

            // A reload may name other input topics; the set changes rarely, so this is one reference compare per record.
            var set = registry.Current;
            if (!ReferenceEquals(set, subscribedSet))
            {
                var topics = set.InputTopics.Order(StringComparer.Ordinal).ToArray();
                if (!topics.SequenceEqual(subscribed))
                {
                    consumer.Subscribe(topics);
                    subscribed = topics;
                    LogConsuming(logger, string.Join(", ", topics), options.Value.GroupId);
                }

                subscribedSet = set;
            }

            ConsumeResult<byte[], byte[]>? result;
            try
            {
                // A bounded poll, so that a quiet topic still stores offsets and commits transactions on time.
                result = _stash.TryTake(out var stashed) ? stashed : consumer.Consume(closeWhenIdle ? TimeSpan.Zero : poll);
                if (result is null && closeWhenIdle)
                {
                    // The burst of records on hand is over: arms with nothing in flight send what they hold now.
                    batchers.CloseIdle();
                    result = consumer.Consume(poll);
                }
            }
            catch (ConsumeException e) when (!e.Error.IsFatal)
            {
                // librdkafka recovers from these by itself (e.g. a partition leader moving).
                LogConsumeError(logger, e.Error.Code, e.Error.Reason);
                continue;
            }

            if (result is null || result.IsPartitionEOF)
            {
                continue;
            }

            try
            {
                pipeline.Handle(result, pauser, stoppingToken);
                transactions?.OnHandled(result);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                // Stopped while waiting for a batch slot: the record was not completed, so its offset is not stored
                // and the next owner processes it again.
                return;
            }
        }
    }

    private static string ClientId => $"mesh-router-{Environment.MachineName}-{Environment.ProcessId}";

    private IConsumer<byte[], byte[]> CreateTransactionalConsumer(TransactionalCommitter transactions, RecordCompletion completion)
    {
        var config = kafka.CreateConsumerConfig(options.Value.GroupId, ClientId);
        // Offsets commit inside the transactions, never on a timer.
        config.EnableAutoCommit = false;
        // Through the factory, so this consumer reports its assignment and broker reachability to /health too.
        return kafka.CreateConsumer(config, new ConsumerHandlers(
            OnFatal: error => FatalError.Stop(lifetime, logger, $"Fatal consumer error {error.Code}: {error.Reason}"),
            OnAssigned: (_, partitions) => transactions.OnAssigned(partitions),
            OnRevoked: (consumer, partitions) =>
            {
                // Before the partitions move: commit what was done for them, so the new owner starts after it, and
                // neither handle their stashed records nor commit for them afterwards.
                var revoked = partitions.Select(p => p.TopicPartition).ToList();
                _stash.Remove(revoked);
                transactions.Commit(consumer);
                transactions.OnRemoved(revoked);
                completion.Forget(revoked);
            },
            OnLost: (_, partitions) =>
            {
                transactions.OnRemoved(partitions.Select(p => p.TopicPartition));
                // Another member may already own them: nothing of the open transaction may become visible.
                _lost = true;
                FatalError.Stop(lifetime, logger, $"Partitions lost in exactly-once mode ({string.Join(", ", partitions)}); restarting from the last committed transaction.");
            }));
    }

    private void ShutdownTransactional(IConsumer<byte[], byte[]> consumer, TransactionalCommitter transactions)
    {
        if (_lost)
        {
            transactions.Abort();
        }
        else
        {
            transactions.Commit(consumer);
        }

        // Shadow batches still running finish (best effort) and their predictions are sent before the end.
        services.GetRequiredService<ArmBatchers>().DrainAsync().GetAwaiter().GetResult();
        services.GetRequiredService<ShadowProducer>().Flush(TimeSpan.FromSeconds(5));
        consumer.Close();
        LogStopped(logger);
    }

    private void Shutdown(IConsumer<byte[], byte[]> consumer, IProducer<byte[], byte[]> producer, ArmBatchers batchers, RecordCompletion completion)
    {
        batchers.DrainAsync().GetAwaiter().GetResult();
        var undelivered = producer.Flush(TimeSpan.FromSeconds(15));
        if (undelivered > 0)
        {
            LogUndelivered(logger, undelivered);
        }

        completion.StoreReady(consumer);

        try
        {
            consumer.Commit();
        }
        catch (KafkaException e) when (e.Error.Code == ErrorCode.Local_NoOffset)
        {
            // Nothing stored since the last commit.
        }
        catch (KafkaException e) when (e.Error.Code is ErrorCode.RebalanceInProgress or ErrorCode.IllegalGeneration or ErrorCode.UnknownMemberId or ErrorCode.FencedInstanceId)
        {
            // Stopped while the group rebalances: the group refuses this member's commit. That is no failure of the
            // router: the partitions' next owner consumes the uncommitted records again (at-least-once).
            LogFinalCommitRefused(logger, e.Error.Code, e.Error.Reason);
        }

        consumer.Close();
        LogStopped(logger);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Consuming {Topic} as group {GroupId}")]
    private static partial void LogConsuming(ILogger logger, string topic, string groupId);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "Consume error {Code}: {Reason}")]
    private static partial void LogConsumeError(ILogger logger, ErrorCode code, string reason);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "{Count} messages were still undelivered after the final flush; their records will be consumed again")]
    private static partial void LogUndelivered(ILogger logger, int count);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "The group refused the final commit ({Code}: {Reason}); the partitions' next owner consumes those records again")]
    private static partial void LogFinalCommitRefused(ILogger logger, ErrorCode code, string reason);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Stopped: in-flight batches drained, producer flushed, offsets committed")]
    private static partial void LogStopped(ILogger logger);
}
