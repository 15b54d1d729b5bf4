using System.Diagnostics;
using Confluent.Kafka;
using Google.Protobuf;
using Mesh.Contracts.V1;
using Mesh.Kafka;
using Mesh.Kafka.SchemaRegistry;
using Mesh.Kafka.Telemetry;
using Mesh.Router.Batching;
using Mesh.Router.Deduplication;
using Mesh.Router.Experiments;
using Mesh.Router.Options;
using Mesh.Router.RateLimiting;
using Mesh.Router.Shedding;
using Mesh.Router.Telemetry;
using Microsoft.Extensions.Options;

namespace Mesh.Router.Routing;

/// <summary>
/// The router's record handling on the consume thread, separate from the consume loop: decode and validate a
/// record, let each experiment of its topic choose an arm (<see cref="ExperimentRuntime.Choose"/>), and hand it to
/// the arm's micro-batcher (shadows get a copy). The batches, the model calls, the outputs and the offsets are the
/// work of <see cref="BatchProcessor"/>, <see cref="ArmCaller"/>, <see cref="OutputWriter"/> and <see cref="RecordCompletion"/>.
/// </summary>
internal sealed class RoutingPipeline(
    IOptions<RouterOptions> routerOptions,
    ExperimentRegistry registry,
    ArmBatchers batchers,
    OutputWriter writer,
    WireFormatReader wireFormat,
    OffsetTracker offsets,
    RequestIdDeduplicator deduplicator,
    LagShedder shedder,
    RouterTelemetry telemetry)
{
    private static readonly TimeSpan s_pausedPoll = TimeSpan.FromMilliseconds(100);

    // Used on the consume thread only.
    private readonly Random _random = routerOptions.Value.Bandit.Seed != 0 ? new Random(routerOptions.Value.Bandit.Seed) : new Random();
    private readonly TimeSpan _pauseAfter = TimeSpan.FromMilliseconds(routerOptions.Value.Backpressure.PauseAfterMs);
    private readonly string _groupId = routerOptions.Value.GroupId;
    private readonly bool _namesByPosition = routerOptions.Value.Features.UnknownNames == FeatureOptions.ByPosition;

    /// <summary>
    /// Handles one consumed record on the consume thread; waits through <paramref name="pauser"/> (pausing the
    /// partitions) while the chosen arm's batches are all in flight or the experiment is at its rate limit.
    /// </summary>
    public void Handle(ConsumeResult<byte[], byte[]> result, IConsumePauser pauser, CancellationToken cancellationToken)
    {
        var consumedAt = DateTime.UtcNow;
        offsets.Track(result.TopicPartition, result.Offset.Value);
        telemetry.Records.Add(1);

        var record = StartRecord(result, consumedAt);
        if (result.Message.Value is null)
        {
            writer.DeadLetter(record, ErrorClass.Decode, "the record has no value (a tombstone), not a mesh.v1.FeatureRecord.");
            return;
        }

        FeatureRecord feature;
        try
        {
            feature = wireFormat.Decode<FeatureRecord>(result.Topic, result.Message.Value);
        }
        catch (InvalidProtocolBufferException e)
        {
            writer.DeadLetter(record, ErrorClass.Decode, $"the value is not a mesh.v1.FeatureRecord: {e.Message}");
            return;
        }
        catch (UndecodableValueException e)
        {
            writer.DeadLetter(record, ErrorClass.Decode, e.Message);
            return;
        }

        record.Feature = feature;
        record.EventTime = feature.EventTime?.ToDateTime() ?? result.Message.Timestamp.UtcDateTime;
        record.Activity?.SetTag("mesh.request_id", feature.RequestId);
        if (string.IsNullOrEmpty(feature.RequestId))
        {
            writer.DeadLetter(record, ErrorClass.Validation, "request_id is empty.");
            return;
        }

        var experiments = registry.Current.ForTopic(result.Topic);
        if (experiments.Count == 0)
        {
            writer.DeadLetter(record, ErrorClass.Validation, $"no experiment reads topic '{result.Topic}' any more.");
            return;
        }

        // Each experiment owes the record one output, a Prediction or its own dead letter: a record one experiment
        // cannot take (say, the wrong number of features for its model) is still predicted by the others.
        record.ExpectOutputs(experiments.Count);

        // Once per record, so every experiment routes the record at the same level.
        var level = shedder.Current();

        // Sticky by entity; a record without one still gets a stable arm through its request id.
        var stickyKey = feature.EntityId.Length > 0 ? feature.EntityId : feature.RequestId;
        var nonFinite = NonFiniteFeature.IndexOf(feature.Values);
        for (var i = 0; i < experiments.Count; i++)
        {
            var experiment = experiments[i];
            if (!deduplicator.TryClaim(experiment.Name, feature.RequestId, result.Offset.Value))
            {
                // Predicted already (a redelivery, or a replay of a record that was not dead-lettered here).
                writer.Skip(record);
                continue;
            }

            var choice = Choose(experiment, stickyKey, level, out var routingReason);
            var arm = experiment.Arms[Math.Max(choice.Index, 0)];
            TagChoice(record.Activity, experiment, choice.Index < 0 ? EnsembleJoin.ArmName : arm.Identity.Arm, experiments.Count);
            if (experiment.Definition.FeatureSet is { } featureSet && feature.FeatureSet.Length > 0 && feature.FeatureSet != featureSet)
            {
                writer.DeadLetter(record, ErrorClass.Validation,
                    $"the record's feature_set is '{feature.FeatureSet}'; experiment '{experiment.Name}' takes feature set '{featureSet}'.",
                    experiment.Name,
                    experiment.Strategy == ExperimentStrategy.Ensemble ? EnsembleJoin.ArmName : arm.Identity.Arm);
                continue;
            }

            // An ensemble's members all take the first member's columns (checked when the experiment is built).
            if (FeatureColumns.Resolve(feature, arm, _namesByPosition, out var columns) is { } misfit)
            {
                writer.DeadLetter(record, ErrorClass.Validation,
                    misfit,
                    experiment.Name,
                    experiment.Strategy == ExperimentStrategy.Ensemble ? EnsembleJoin.ArmName : arm.Identity.Arm);
                continue;
            }

            if (nonFinite >= 0 && !experiment.AcceptsNonFinite(choice.Index))
            {
                writer.DeadLetter(record, ErrorClass.Validation,
                    $"{NonFiniteFeature.Describe(feature.Values, feature.Names, nonFinite)}; experiment '{experiment.Name}' " +
                    $"{(choice.Index < 0 ? "has ensemble members whose models" : $"arm '{arm.Identity.Arm}' (model '{arm.Identity.Model}')")} " +
                    "do not take non-finite features (acceptNonFinite: true in the experiment spec says a model does).",
                    experiment.Name,
                    experiment.Strategy == ExperimentStrategy.Ensemble ? EnsembleJoin.ArmName : arm.Identity.Arm);
                continue;
            }

            Dispatch(record, experiment, choice, columns, routingReason, level, nonFinite >= 0, pauser, cancellationToken);
        }
    }

    /// <summary>
    /// The experiment's choice, or at <see cref="ShedLevel.Challengers"/> the fallback arm (the champion) for every
    /// record, with probability 1 (under shedding the champion gets them all) and the reason on the Prediction. The
    /// policy is not asked then: a bandit would count pulls of arms it was not given. An ensemble has no challengers,
    /// and an experiment without a fallback has no champion to send them to: both stay at the shadows level.
    /// </summary>
    private ArmChoice Choose(ExperimentRuntime experiment, string stickyKey, ShedLevel level, out string routingReason)
    {
        routingReason = "";
        if (level < ShedLevel.Challengers || experiment.Fallback is not { } champion || experiment.Strategy == ExperimentStrategy.Ensemble)
        {
            return experiment.Choose(stickyKey, _random);
        }

        var index = 0;
        while (!ReferenceEquals(experiment.Arms[index], champion))
        {
            index++;
        }

        routingReason = RoutingReasons.Shed;
        telemetry.ShedRecords.Add(1, new KeyValuePair<string, object?>("experiment", experiment.Name), new KeyValuePair<string, object?>("kind", "challenger"));
        return new ArmChoice(index, 1.0, experiment.PolicyVersion);
    }

    /// <summary>
    /// The experiment and arm on the record's span: as attributes when one experiment reads the topic, else as an
    /// event per experiment (attributes hold one value, a record may be routed by several). One experiment needs no
    /// event repeating its attributes: that was an event, a tag collection and four tag nodes on every record.
    /// </summary>
    private static void TagChoice(Activity? activity, ExperimentRuntime experiment, string arm, int experiments)
    {
        if (activity is not { IsAllDataRequested: true })
        {
            return;
        }

        if (experiments == 1)
        {
            activity.SetTag("mesh.experiment", experiment.Name);
            activity.SetTag("mesh.arm", arm);
            return;
        }

        activity.AddEvent(new ActivityEvent("mesh.arm_chosen", tags: new ActivityTagsCollection { ["mesh.experiment"] = experiment.Name, ["mesh.arm"] = arm }));
    }

    private void Dispatch(
        RoutedRecord record,
        ExperimentRuntime experiment,
        ArmChoice choice,
        int[]? columns,
        string routingReason,
        ShedLevel level,
        bool nonFinite,
        IConsumePauser pauser,
        CancellationToken cancellationToken)
    {
        if (experiment.RateLimiter is { } limiter)
        {
            WaitForToken(experiment, limiter, pauser, cancellationToken);
        }

        if (experiment.Strategy == ExperimentStrategy.Ensemble)
        {
            var join = new EnsembleJoin(experiment, experiment.Arms.Count);
            for (var member = 0; member < experiment.Arms.Count; member++)
            {
                Add(experiment.Arms[member], new ArmRequest(record, 1, choice.PolicyVersion, experiment.Contexts.Ensemble, join, member, columns), pauser, cancellationToken);
            }
        }
        else
        {
            Add(experiment.Arms[choice.Index],
                new ArmRequest(record, choice.Probability, choice.PolicyVersion, experiment.Contexts.Arms[choice.Index], Columns: columns, RoutingReason: routingReason),
                pauser,
                cancellationToken);
        }

        if (level >= ShedLevel.Shadows && experiment.Shadows.Count > 0)
        {
            // Lag-aware shedding, first level: no shadow copies at all until the lag falls again.
            telemetry.ShedRecords.Add(experiment.Shadows.Count, new KeyValuePair<string, object?>("experiment", experiment.Name), new KeyValuePair<string, object?>("kind", "shadow"));
            return;
        }

        // Shadows never wait: a shadow whose batches are all busy does not get this record (shed first).
        var feature = record.Feature!;
        for (var s = 0; s < experiment.Shadows.Count; s++)
        {
            var shadow = experiment.Shadows[s];
            if (nonFinite && !experiment.ShadowAcceptsNonFinite(s))
            {
                // Not the shadow's to refuse the record for everyone: it is just not scored by the shadow.
                telemetry.ShadowFailures.Add(1, shadow.Tags);
                continue;
            }

            if (FeatureColumns.Resolve(feature, shadow, _namesByPosition, out var shadowColumns) is not null ||
                !batchers.For(shadow).TryAdd(new ArmRequest(record, 1, choice.PolicyVersion, experiment.Contexts.Shadows[s], Columns: shadowColumns), TimeSpan.Zero, cancellationToken))
            {
                telemetry.ShadowShed.Add(1, shadow.Tags);
            }
        }
    }

    private void Add(ArmRuntime arm, ArmRequest request, IConsumePauser pauser, CancellationToken cancellationToken)
    {
        var batcher = batchers.For(arm);
        if (batcher.TryAdd(request, _pauseAfter, cancellationToken))
        {
            return;
        }

        WaitForSlot(arm, batcher, request, pauser, cancellationToken);
    }

    // Apart from Add: a lambda capturing Add's parameters made Add allocate its closure on every record, paused or not.
    private void WaitForSlot(ArmRuntime arm, MicroBatcher<ArmRequest> batcher, ArmRequest request, IConsumePauser pauser, CancellationToken cancellationToken)
    {
        // Every batch of the arm is still in flight: stop fetching rather than buffer without bound.
        telemetry.Pauses.Add(1, arm.Tags);
        pauser.WaitPaused(() => batcher.TryAdd(request, s_pausedPoll, cancellationToken), cancellationToken);
    }

    private void WaitForToken(ExperimentRuntime experiment, TokenBucket limiter, IConsumePauser pauser, CancellationToken cancellationToken)
    {
        if (limiter.TryTake(out var retryAfter))
        {
            return;
        }

        telemetry.RateLimited.Add(1, new KeyValuePair<string, object?>("experiment", experiment.Name));
        if (retryAfter <= _pauseAfter)
        {
            Thread.Sleep(retryAfter);
            if (limiter.TryTake(out retryAfter))
            {
                return;
            }
        }

        WaitPausedForToken(limiter, pauser, cancellationToken);
    }

    // Apart from WaitForToken, so a token taken at once allocates no closure.
    private static void WaitPausedForToken(TokenBucket limiter, IConsumePauser pauser, CancellationToken cancellationToken)
    {
        pauser.WaitPaused(
            () =>
            {
                if (limiter.TryTake(out var after))
                {
                    return true;
                }

                cancellationToken.WaitHandle.WaitOne(after < s_pausedPoll ? after : s_pausedPoll);
                cancellationToken.ThrowIfCancellationRequested();
                return false;
            },
            cancellationToken);
    }

    private RoutedRecord StartRecord(ConsumeResult<byte[], byte[]> result, DateTime consumedAt)
    {
        var parent = MeshHeaders.ExtractTraceContext(result.Message.Headers);
        var previous = Activity.Current;
        var activity = KafkaTracing.StartProcess(RouterTelemetry.Source, result, _groupId, parent);
        byte[]? inbound = null;
        if (activity is null)
        {
            result.Message.Headers?.TryGetLastBytes(MeshHeaders.TraceParent, out inbound);
        }
        else
        {
            // Starting an activity makes it Activity.Current; it lives until the record's outputs are acknowledged,
            // on other threads, and travels with the record, so it must not parent what the consume thread does next.
            Activity.Current = previous;
        }

        return new RoutedRecord(result, consumedAt, activity, parent, inbound);
    }
}
