namespace Mesh.Kafka.Tests;

/// <summary>The bounds of <c>/health</c> and of the watchdog, on a clock the test moves.</summary>
public sealed class KafkaHealthTests
{
    private const string Up = """{"brokers":{"127.0.0.1:9092/1":{"source":"learned","state":"UP"},":0/internal":{"source":"internal","state":"UP"}}}""";
    private const string Down = """{"brokers":{"127.0.0.1:9092/1":{"source":"learned","state":"TRY_CONNECT"},":0/internal":{"source":"internal","state":"UP"}}}""";

    private readonly ManualClock _clock = new();

    [Fact]
    public void Evaluate_ConsumerConnectedButNotAssigned_NotReady()
    {
        var health = Health();
        var consumer = health.Register("consumer", isConsumer: true);

        consumer.OnStatistics(Up);

        var verdict = health.Evaluate();
        Assert.Equal(HealthStatus.Unhealthy, verdict.Status);
        Assert.Contains("not joined its group", verdict.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Evaluate_ConsumerAssigned_Healthy()
    {
        var health = Health();
        var consumer = health.Register("consumer", isConsumer: true);

        consumer.OnAssigned();

        Assert.Equal(HealthStatus.Healthy, health.Evaluate().Status);
    }

    [Fact]
    public void Evaluate_BrokerLostShorterThanTheBound_StillHealthy_LongerUnhealthy_ThenExit70()
    {
        var health = Health(unhealthyAfter: 15, exitAfter: 60);
        var producer = health.Register("producer", isConsumer: false);
        producer.OnStatistics(Up);

        producer.OnStatistics(Down);
        _clock.Advance(TimeSpan.FromSeconds(14));
        Assert.Equal(HealthStatus.Healthy, health.Evaluate().Status);

        _clock.Advance(TimeSpan.FromSeconds(1));
        var unhealthy = health.Evaluate();
        Assert.Equal(HealthStatus.Unhealthy, unhealthy.Status);
        Assert.Null(unhealthy.ExitCode);

        _clock.Advance(TimeSpan.FromSeconds(45));
        Assert.Equal(FatalError.ExitCode, health.Evaluate().ExitCode);
    }

    [Fact]
    public void Evaluate_BrokerBackAfterAnOutage_HealthyAgain()
    {
        var health = Health(unhealthyAfter: 15, exitAfter: 60);
        var producer = health.Register("producer", isConsumer: false);
        producer.OnStatistics(Up);
        Assert.True(producer.OnError(new Error(ErrorCode.Local_AllBrokersDown)));
        _clock.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(HealthStatus.Unhealthy, health.Evaluate().Status);

        producer.OnStatistics(Up);

        Assert.Equal(HealthStatus.Healthy, health.Evaluate().Status);
    }

    [Fact]
    public void Evaluate_NeverReachedABrokerWithinTheBootstrapWait_ExitsAsAConfigurationErrorNamingTheSetting()
    {
        var health = Health(bootstrapWait: 10);
        health.Register("producer", isConsumer: false);
        _clock.Advance(TimeSpan.FromSeconds(9));
        Assert.Null(health.Evaluate().ExitCode);

        _clock.Advance(TimeSpan.FromSeconds(1));

        var verdict = health.Evaluate();
        Assert.Equal(78, verdict.ExitCode);
        Assert.StartsWith("Kafka:BootstrapServers: ", verdict.ExitReason, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:9", verdict.ExitReason, StringComparison.Ordinal);
    }

    [Fact]
    public void OnError_RepeatedConnectionErrorsDuringAnOutage_OnlyTheFirstIsNews()
    {
        var producer = Health().Register("producer", isConsumer: false);
        producer.OnStatistics(Up);

        Assert.True(producer.OnError(new Error(ErrorCode.Local_AllBrokersDown)));
        Assert.False(producer.OnError(new Error(ErrorCode.Local_Transport)));
        Assert.False(producer.OnError(new Error(ErrorCode.Local_AllBrokersDown)));
        Assert.True(producer.OnError(new Error(ErrorCode.Local_MsgTimedOut)));
    }

    [Fact]
    public void IsFirstConnectFailure_OncePerOutage()
    {
        var producer = Health().Register("producer", isConsumer: false);

        Assert.True(producer.IsFirstConnectFailure());
        Assert.False(producer.IsFirstConnectFailure());
        producer.OnStatistics(Up);
        Assert.True(producer.IsFirstConnectFailure());
    }

    [Fact]
    public void AnyBrokerUp_OnlyTheInternalBroker_SaysNothing()
    {
        Assert.Null(KafkaClientHealth.AnyBrokerUp("""{"brokers":{":0/internal":{"source":"internal","state":"UP"}}}"""));
        Assert.True(KafkaClientHealth.AnyBrokerUp(Up));
        Assert.False(KafkaClientHealth.AnyBrokerUp(Down));
    }

    private KafkaHealth Health(int unhealthyAfter = 15, int exitAfter = 60, int bootstrapWait = 30) =>
        new(Options.Create(new KafkaOptions
        {
            BootstrapServers = "127.0.0.1:9",
            BootstrapWaitSeconds = bootstrapWait,
            Health = new KafkaHealthOptions { UnhealthyAfterSeconds = unhealthyAfter, ExitAfterSeconds = exitAfter },
        }), _clock);
}
