using System.Collections.Concurrent;
using Inference;
using Mesh.Kafka;
using Mesh.Router.Bandits;
using Mesh.Router.Options;
using Mesh.Router.Inference;
using Mesh.Router.RateLimiting;
using Mesh.Router.Resilience;
using Mesh.Router.Telemetry;
using Microsoft.Extensions.Options;

namespace Mesh.Router.Experiments;

/// <summary>
/// The live experiments. A spec (at start, on a file change, on an admin reload) or a weight change builds new
/// immutable <see cref="ExperimentRuntime"/>s and swaps the whole <see cref="ExperimentSet"/> in one write; arms
/// whose model and endpoint did not change keep their batcher, circuit breaker and in-flight batches.
/// </summary>
internal sealed partial class ExperimentRegistry(
    IOptions<RouterOptions> routerOptions,
    IOptions<KafkaOptions> kafkaOptions,
    ModelEndpointPool endpoints,
    IBanditStateStore banditStore,
    TimeProvider time,
    RouterTelemetry telemetry,
    ILogger<ExperimentRegistry> logger) : IDisposable
{
    private readonly ConcurrentDictionary<string, ArmRuntime> _arms = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _changeLock = new(1, 1);
    private readonly WeightOverrides _overrides = new();
    private volatile ExperimentSet _current = ExperimentSet.Empty;
    private string? _appliedText;

    public ExperimentSet Current => _current;

    /// <summary>
    /// Reads the experiment file and applies it when its text changed since the last apply (or always, with
    /// <paramref name="force"/>), keeping the weights set through the admin API for arms whose file weight did not
    /// change. Returns whether it applied and which overrides it kept; throws with every error when the file is
    /// invalid or an arm is unusable, keeping the experiments in force.
    /// </summary>
    public async Task<ReloadOutcome> ReloadFromFileAsync(string path, bool force, CancellationToken cancellationToken)
    {
        var text = ExperimentSpecLoader.ReadText(path, out var fullPath, out var readError);
        if (text is null)
        {
            throw new InvalidOperationException(readError);
        }

        if (!force && text == _appliedText)
        {
            return new ReloadOutcome(false, []);
        }

        var loaded = ExperimentSpecLoader.Parse(text, fullPath);
        if (loaded.Spec is null)
        {
            throw new InvalidOperationException(string.Join(Environment.NewLine, loaded.Errors));
        }

        var kept = await ApplyAsync(loaded.Spec, keepOverrides: true, cancellationToken).ConfigureAwait(false);
        _appliedText = text;
        return new ReloadOutcome(true, kept);
    }

    /// <summary>
    /// Builds every experiment of <paramref name="spec"/> and swaps them in; throws (keeping the current set) when an
    /// arm is not usable. With <paramref name="keepOverrides"/>, API-set weights that still hold replace the spec's.
    /// </summary>
    public async Task<IReadOnlyList<string>> ApplyAsync(ExperimentSpec spec, bool keepOverrides, CancellationToken cancellationToken)
    {
        await _changeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var kept = keepOverrides ? _overrides.ApplyTo(spec) : [];
            var previous = _current;
            var built = new List<ExperimentRuntime>();
            foreach (var definition in spec.Experiments)
            {
                built.Add(await BuildAsync(definition, previous.Find(definition.Name), cancellationToken).ConfigureAwait(false));
            }

            var next = new ExperimentSet(built);
            // Marked before the new set is seen, so whoever notices the change finds the arms it left out already retired.
            RetireArmsNotIn(next);
            _current = next;
            _overrides.Commit();
            LogApplied(logger, built.Count, string.Join(", ", built.Select(e => $"{e.Name} ({e.PolicyVersion})")));
            return kept;
        }
        finally
        {
            _changeLock.Release();
        }
    }

    /// <summary>
    /// Changes an experiment's weights live (arms not named keep theirs). For <c>ab</c> only the entities whose
    /// bucket changes hands move. Throws <see cref="KeyNotFoundException"/> or <see cref="ArgumentException"/> with
    /// a message for the caller.
    /// </summary>
    public async Task<ExperimentRuntime> SetWeightsAsync(string experimentName, IReadOnlyDictionary<string, double> weights, CancellationToken cancellationToken)
    {
        await _changeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var set = _current;
            var experiment = set.Find(experimentName) ?? throw new KeyNotFoundException($"There is no experiment '{experimentName}'.");
            if (experiment.Strategy == ExperimentStrategy.Bandit)
            {
                throw new ArgumentException($"Experiment '{experimentName}' is a bandit: its split is learned from rewards, not set by weights.");
            }

            foreach (var (arm, weight) in weights)
            {
                if (experiment.Definition.Arms.All(a => a.Name != arm))
                {
                    throw new ArgumentException($"Experiment '{experimentName}' has no arm '{arm}'.");
                }

                if (!(weight >= 0) || double.IsInfinity(weight))
                {
                    throw new ArgumentException($"The weight of arm '{arm}' must be a number of at least 0 (was {weight}; 0 switches the arm off).");
                }

                if (weight == 0 && experiment.Strategy != ExperimentStrategy.Ab)
                {
                    throw new ArgumentException($"Experiment '{experimentName}' is an ensemble: a weight of 0 cannot switch a member off (remove it from the spec).");
                }
            }

            var arms = experiment.Definition.Arms
                .Select(a => a.WithWeight(weights.TryGetValue(a.Name, out var w) ? w : a.Weight))
                .ToList();
            var total = arms.Sum(a => a.Weight);
            if (!(total > 0))
            {
                throw new ArgumentException($"Experiment '{experimentName}': at least one arm must keep a weight greater than 0.");
            }

            if (experiment.Strategy == ExperimentStrategy.Ab && arms.FirstOrDefault(a => a.Weight > 0 && a.Weight / total * ArmAssigner.BucketCount < 1) is { } tiny)
            {
                throw new ArgumentException($"The weight of arm '{tiny.Name}' is less than 1/{ArmAssigner.BucketCount} of the total weight {total}.");
            }

            var definition = experiment.Definition.WithArms(arms);
            var changed = experiment with
            {
                Definition = definition,
                Assigner = experiment.Assigner is null ? null : new ArmAssigner(experiment.Name, arms.Select(a => a.Weight).ToArray()),
                EnsembleWeights = arms.Select(a => a.Weight > 0 ? a.Weight : 1).ToArray(),
                Contexts = PredictionContext.ForExperiment(experiment.Strategy, definition),
            };
            _current = new ExperimentSet(set.All.Select(e => e.Name == experimentName ? changed : e).ToList());
            foreach (var (arm, weight) in weights)
            {
                _overrides.Set(experimentName, arm, weight, experiment.Definition.Arms.First(a => a.Name == arm).Weight);
            }

            LogWeightsChanged(logger, experimentName, string.Join(", ", arms.Select(a => $"{a.Name}={a.Weight}")), changed.PolicyVersion);
            return changed;
        }
        finally
        {
            _changeLock.Release();
        }
    }

    /// <summary>Reads the shared bandit state for every bandit experiment (and writes the pulls counted locally).</summary>
    public async Task RefreshBanditsAsync(CancellationToken cancellationToken)
    {
        foreach (var experiment in _current.All)
        {
            if (experiment.Bandit is { } bandit)
            {
                await bandit.RefreshAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public void Dispose() => _changeLock.Dispose();

    private async Task<ExperimentRuntime> BuildAsync(ExperimentDefinition definition, ExperimentRuntime? previous, CancellationToken cancellationToken)
    {
        var options = routerOptions.Value;
        var topics = kafkaOptions.Value.Topics;
        telemetry.AddExperimentZeros(definition.Name);
        var arms = await Task.WhenAll(definition.Arms.Select(a => GetArmAsync(definition.Name, a, isShadow: false, definition.Features, cancellationToken))).ConfigureAwait(false);
        var shadows = await Task.WhenAll((definition.Shadows ?? []).Select(a => GetArmAsync(definition.Name, a, isShadow: true, definition.Features, cancellationToken))).ConfigureAwait(false);
        var strategy = definition.Strategy switch
        {
            ExperimentSpecLoader.StrategyBandit => ExperimentStrategy.Bandit,
            ExperimentSpecLoader.StrategyEnsemble => ExperimentStrategy.Ensemble,
            _ => ExperimentStrategy.Ab,
        };

        ArmRuntime? fallback = null;
        if (definition.Fallback is { } fallbackName)
        {
            fallback = arms.Single(a => a.Identity.Arm == fallbackName);
            // The fallback answers with the record the failed arm was sent, so it must take the same input.
            if (arms.FirstOrDefault(a => a.Input.FeatureWidth != fallback.Input.FeatureWidth) is { } other)
            {
                throw new InvalidOperationException(
                    $"Experiment '{definition.Name}': fallback arm '{fallbackName}' takes {fallback.Input.FeatureWidth} features but arm '{other.Identity.Arm}' takes {other.Input.FeatureWidth}.");
            }
        }

        if (strategy == ExperimentStrategy.Ensemble && arms.Select(a => a.Input.FeatureWidth).Distinct().Count() > 1)
        {
            throw new InvalidOperationException($"Experiment '{definition.Name}': the ensemble's members take different feature counts.");
        }

        // The fallback and the ensemble's members score the very rows packed for another arm: same columns, same order.
        if ((fallback ?? (strategy == ExperimentStrategy.Ensemble ? arms[0] : null)) is { } reference &&
            arms.FirstOrDefault(a => a.Features is null ? reference.Features is not null : !a.Features.SameAs(reference.Features)) is { } differs)
        {
            throw new InvalidOperationException(
                $"Experiment '{definition.Name}': arm '{differs.Identity.Arm}' takes its features in another order ({Order(differs)}) than arm '{reference.Identity.Arm}' ({Order(reference)}), which answers for it.");
        }

        BanditPolicy? bandit = null;
        if (strategy == ExperimentStrategy.Bandit)
        {
            var algorithm = definition.Bandit?.Algorithm ?? ExperimentSpecLoader.BanditThompson;
            var epsilon = definition.Bandit?.Epsilon ?? 0.1;
            var names = definition.Arms.Select(a => a.Name).ToArray();
            // Keep the policy (and the pulls it counted) when the bandit itself did not change.
            bandit = previous?.Bandit is { } kept && kept.Algorithm == algorithm && kept.Arms.SequenceEqual(names) &&
                previous.Definition.Bandit?.Epsilon == definition.Bandit?.Epsilon
                ? kept
                : new BanditPolicy(definition.Name, names, algorithm, epsilon, banditStore);
            await bandit.RefreshAsync(cancellationToken).ConfigureAwait(false);
        }

        TokenBucket? limiter = null;
        if (definition.RateLimit is { } limit)
        {
            limiter = previous?.RateLimiter is { } bucket && bucket.RatePerSecond == limit.RecordsPerSecond &&
                previous.Definition.RateLimit?.Burst == limit.Burst
                ? bucket
                : new TokenBucket(limit.RecordsPerSecond, limit.Burst, time);
        }

        return new ExperimentRuntime(
            definition.Name,
            strategy,
            definition,
            definition.Topics?.Input ?? topics.Features,
            definition.Topics?.Predictions ?? topics.Predictions,
            definition.Topics?.ShadowPredictions ?? topics.ShadowPredictions,
            arms,
            shadows,
            fallback,
            strategy == ExperimentStrategy.Ab ? new ArmAssigner(definition.Name, definition.Arms.Select(a => a.Weight).ToArray()) : null,
            bandit,
            definition.Ensemble?.Combine switch
            {
                ExperimentSpecLoader.CombineWeightedMean => EnsembleCombine.WeightedMean,
                ExperimentSpecLoader.CombineVote => EnsembleCombine.Vote,
                _ => EnsembleCombine.Mean,
            },
            definition.Arms.Select(a => a.Weight > 0 ? a.Weight : 1).ToArray(),
            limiter,
            PredictionContext.ForExperiment(strategy, definition));
    }

    private async Task<ArmRuntime> GetArmAsync(string experiment, ArmDefinition arm, bool isShadow, List<string>? features, CancellationToken cancellationToken)
    {
        var options = routerOptions.Value;
        var timeout = TimeSpan.FromMilliseconds(arm.TimeoutMs > 0 ? arm.TimeoutMs : isShadow ? options.Shadow.CallTimeoutMs : options.Batching.CallTimeoutMs);
        var key = ArmRuntime.KeyOf(experiment, arm, isShadow, timeout, features);
        if (_arms.TryGetValue(key, out var existing))
        {
            return existing;
        }

        var client = new GRPCInferenceService.GRPCInferenceServiceClient(endpoints.GetChannel(arm.Endpoint));
        var what = $"Experiment '{experiment}' {(isShadow ? "shadow" : "arm")} '{arm.Name}': model '{arm.Model}' version '{arm.Version}' at {arm.Endpoint}";
        ModelMetadataResponse metadata;
        try
        {
            metadata = await ModelMetadataWaiter.WaitForAsync(
                client,
                arm.Model,
                arm.Version,
                TimeSpan.FromSeconds(options.ModelWaitSeconds),
                reason => LogWaitingForModel(logger, experiment, arm.Name, arm.Model, arm.Endpoint, reason),
                cancellationToken).ConfigureAwait(false);
        }
        catch (InvalidOperationException e)
        {
            throw new InvalidOperationException($"{what} {e.Message}", e);
        }

        ModelInputShape input;
        FeatureOrder? order;
        OutputContract outputs;
        OutputPostProcessor? postProcessor;
        try
        {
            input = ModelInputShape.FromMetadata(metadata);
            order = FeatureContract.Check(metadata, input, features);
            outputs = OutputContract.Resolve(metadata, arm.Outputs?.Label, arm.Outputs?.Scores, arm.Classes);
            postProcessor = OutputPostProcessor.Create(arm.PostProcess, outputs);
        }
        catch (Exception e) when (e is InvalidOperationException or InvalidDataException)
        {
            // Refused before it takes traffic: a server that cannot answer the arm's contract would dead-letter every record.
            throw new InvalidOperationException($"{what}: {e.Message}", e);
        }

        LogModelReady(logger, experiment, arm.Name, arm.Model, arm.Version, input.InputName, input.FeatureWidth, outputs.Describe());
        var breaker = new CircuitBreaker(options.CircuitBreaker.FailureThreshold, TimeSpan.FromMilliseconds(options.CircuitBreaker.BreakMs), time);
        var contract = new ArmContractWatch(next => ArmContractWatch.SignatureChange(next, features, arm.Outputs?.Label, arm.Outputs?.Scores, arm.Classes, input, order, outputs));
        var runtime = new ArmRuntime(new ArmIdentity(experiment, arm.Name, arm.Model, arm.Version, arm.Endpoint, arm.ModelUri?.Trim() ?? ""), client, input, order, outputs, postProcessor, isShadow, timeout, breaker, contract);
        var added = _arms.GetOrAdd(key, runtime);
        if (ReferenceEquals(added, runtime))
        {
            // On /metrics from the start, so "no shadow was shed" or "no call was refused" reads as 0 rather than as
            // a missing series, and the circuit's state is there before it first opens.
            telemetry.AddArmZeros(runtime.Tags, isShadow);
            telemetry.TrackCircuit(runtime.Tags, () => breaker.State);
        }

        return added;
    }

    // An arm a reload removed (or replaced: another model, version, endpoint or timeout) is forgotten here and its
    // circuit gauge stops; its batcher finishes the records it holds and is disposed by ArmBatchers.
    private void RetireArmsNotIn(ExperimentSet next)
    {
        var live = next.All.SelectMany(e => e.Arms.Concat(e.Shadows)).ToHashSet();
        foreach (var (key, arm) in _arms)
        {
            if (!live.Contains(arm) && _arms.TryRemove(KeyValuePair.Create(key, arm)))
            {
                arm.Retire();
                telemetry.Untrack(arm.Tags);
                LogArmRetired(logger, arm.Identity.Experiment, arm.Identity.Arm, arm.Identity.Model, arm.Identity.Version);
            }
        }
    }

    private static string Order(ArmRuntime arm) => arm.Features is { } order ? string.Join(", ", order.Names) : "by position";

    [LoggerMessage(EventId = 200, Level = LogLevel.Information, Message = "Experiments in force ({Count}): {Experiments}")]
    private static partial void LogApplied(ILogger logger, int count, string experiments);

    [LoggerMessage(EventId = 201, Level = LogLevel.Information, Message = "Experiment {Experiment}: weights changed to {Weights}, policy {PolicyVersion}")]
    private static partial void LogWeightsChanged(ILogger logger, string experiment, string weights, string policyVersion);

    [LoggerMessage(EventId = 202, Level = LogLevel.Information, Message = "Waiting for experiment {Experiment} arm {Arm}: model {Model} at {Endpoint}: {Reason}")]
    private static partial void LogWaitingForModel(ILogger logger, string experiment, string arm, string model, string endpoint, string reason);

    [LoggerMessage(EventId = 204, Level = LogLevel.Information, Message = "Experiment {Experiment} arm {Arm} (model {Model} version {Version}) retired: the experiments in force no longer route to it")]
    private static partial void LogArmRetired(ILogger logger, string experiment, string arm, string model, string version);

    [LoggerMessage(EventId = 203, Level = LogLevel.Information, Message = "Experiment {Experiment} arm {Arm}: model {Model} version {Version} ready, input {Input} with {Width} features; reads {Outputs}")]
    private static partial void LogModelReady(ILogger logger, string experiment, string arm, string model, string version, string input, int width, string outputs);
}
