using Confluent.Kafka;
using Mesh.Kafka;
using Mesh.Router.Experiments;
using Mesh.Router.Hosting;
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
    ILogger<RouterWorker> logger) : BackgroundService, IConsumePauser
{
    // Records fetched while the partitions were being paused; handled, in order, before the next Consume.
    private readonly Queue<ConsumeResult<byte[], byte[]>> _stash = new();
    private IConsumer<byte[], byte[]>? _consumer;
    private TransactionalCommitter? _transactions;
    private volatile bool _lost;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.Factory.StartNew(() => Run(stoppingToken), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    private void Run(CancellationToken stoppingToken)
    {
        RoutingPipeline pipeline;
        IProducer<byte[], byte[]> producer;
        try
        {
            // Resolved here, not in the constructor: resolving the cluster address and waiting for model hosts
            // may take a while, and the host (health endpoints included) should be up meanwhile.
            pipeline = services.GetRequiredService<RoutingPipeline>();
            producer = services.GetRequiredService<IProducer<byte[], byte[]>>();
            pipeline.InitializeAsync(stoppingToken).GetAwaiter().GetResult();
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

        using var consumer = options.Value.ExactlyOnce.Enabled
            ? CreateTransactionalConsumer(pipeline, producer)
            : kafka.CreateConsumer(
                options.Value.GroupId,
                ClientId,
                onFatal: error => FatalError.Stop(lifetime, logger, $"Fatal consumer error {error.Code}: {error.Reason}"),
                onRevoked: pipeline.OnPartitionsRevoked);
        try
        {
            pipeline.Attach(consumer);
            _consumer = consumer;
            _transactions?.Start();
            pipeline.Pauser = this;
            state.Set(RouterStatus.Consuming);
            Consume(consumer, pipeline, stoppingToken);
            state.Set(RouterStatus.Stopping);
            if (_transactions is { } transactions)
            {
                ShutdownTransactional(consumer, transactions);
            }
            else
            {
                Shutdown(consumer, producer, pipeline);
            }
        }
        catch (KafkaException e) when (e.Error.IsFatal || _transactions is not null)
        {
            // In exactly-once mode any failed transaction call ends the process: the restarted router resumes from
            // the last committed transaction, which is simpler and safer than rewinding positions in place.
            _transactions?.Abort();
            state.Set(RouterStatus.Failed);
            FatalError.Stop(lifetime, logger, $"Fatal Kafka error {e.Error.Code}: {e.Error.Reason}", e);
        }
        catch (Exception e)
        {
            state.Set(RouterStatus.Failed);
            FatalError.Stop(lifetime, logger, "The consume loop failed", e);
        }
    }

    /// <summary>
    /// Waits on the consume thread without buffering: pauses every assigned partition, keeps polling (so the
    /// group does not consider this member dead and rebalances are served) and resumes once there is room.
    /// </summary>
    public void WaitPaused(Func<bool> tryProceed, CancellationToken cancellationToken)
    {
        var consumer = _consumer ?? throw new InvalidOperationException("No consumer to pause.");
        var paused = consumer.Assignment;
        consumer.Pause(paused);
        LogPaused(logger, paused.Count);
        try
        {
            while (!tryProceed())
            {
                cancellationToken.ThrowIfCancellationRequested();
                // Paused partitions return nothing; what was fetched before the pause, or from partitions assigned
                // meanwhile, is kept in order and handled next.
                if (consumer.Consume(TimeSpan.Zero) is { IsPartitionEOF: false } early)
                {
                    _stash.Enqueue(early);
                }
            }
        }
        finally
        {
            consumer.Resume(consumer.Assignment);
        }
    }

    private void Consume(IConsumer<byte[], byte[]> consumer, RoutingPipeline pipeline, CancellationToken stoppingToken)
    {
        var registry = services.GetRequiredService<ExperimentRegistry>();
        ExperimentSet? subscribedSet = null;
        string[] subscribed = [];
        var transactions = _transactions;
        var poll = TimeSpan.FromMilliseconds(options.Value.ExactlyOnce.CommitIntervalMs);
        while (!stoppingToken.IsCancellationRequested && !_lost)
        {
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
                // Exactly-once polls with a timeout so that a quiet topic still commits on time.
                result = _stash.Count > 0 ? _stash.Dequeue() : transactions is null ? consumer.Consume(stoppingToken) : consumer.Consume(poll);
            }
            catch (OperationCanceledException)
            {
                return;
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
                pipeline.Handle(result, stoppingToken);
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

    private IConsumer<byte[], byte[]> CreateTransactionalConsumer(RoutingPipeline pipeline, IProducer<byte[], byte[]> producer)
    {
        var config = kafka.CreateConsumerConfig(options.Value.GroupId, ClientId);
        // Offsets commit inside the transactions, never on a timer.
        config.EnableAutoCommit = false;
        var transactions = new TransactionalCommitter(producer, pipeline, TimeSpan.FromMilliseconds(options.Value.ExactlyOnce.CommitIntervalMs), logger);
        _transactions = transactions;
        return new ConsumerBuilder<byte[], byte[]>(config)
            .SetErrorHandler((_, error) =>
            {
                if (error.IsFatal)
                {
                    FatalError.Stop(lifetime, logger, $"Fatal consumer error {error.Code}: {error.Reason}");
                }
            })
            .SetPartitionsRevokedHandler((consumer, partitions) =>
            {
                // Before the partitions move: commit what was done for them, so the new owner starts after it.
                transactions.Commit(consumer);
                pipeline.ForgetPartitions(partitions.Select(p => p.TopicPartition));
            })
            .SetPartitionsLostHandler((_, partitions) =>
            {
                // Another member may already own them: nothing of the open transaction may become visible.
                _lost = true;
                FatalError.Stop(lifetime, logger, $"Partitions lost in exactly-once mode ({string.Join(", ", partitions)}); restarting from the last committed transaction.");
            })
            .Build();
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

        consumer.Close();
        LogStopped(logger);
    }

    private void Shutdown(IConsumer<byte[], byte[]> consumer, IProducer<byte[], byte[]> producer, RoutingPipeline pipeline)
    {
        pipeline.DrainAsync().GetAwaiter().GetResult();
        var undelivered = producer.Flush(TimeSpan.FromSeconds(15));
        if (undelivered > 0)
        {
            LogUndelivered(logger, undelivered);
        }

        try
        {
            consumer.Commit();
        }
        catch (KafkaException e) when (e.Error.Code == ErrorCode.Local_NoOffset)
        {
            // Nothing stored since the last commit.
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

    [LoggerMessage(EventId = 5, Level = LogLevel.Debug, Message = "Paused {Count} partitions: an arm's batches are all in flight or an experiment is at its rate limit")]
    private static partial void LogPaused(ILogger logger, int count);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Stopped: in-flight batches drained, producer flushed, offsets committed")]
    private static partial void LogStopped(ILogger logger);
}
