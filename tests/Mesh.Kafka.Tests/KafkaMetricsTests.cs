namespace Mesh.Kafka.Tests;

/// <summary>The consumer lag, rebalances and librdkafka statistics every service puts on /metrics, read as a metrics exporter reads them.</summary>
public sealed class KafkaMetricsTests
{
    [Fact]
    public void ConsumerLag_ProduceTenConsumeFourThenCatchUp_GaugeShowsSixThenZero()
    {
        using var broker = EmbeddedKafkaBroker.Start();
        broker.CreateTopic("lag-topic", partitions: 1);
        using (var producer = new ProducerBuilder<byte[], byte[]>(new ProducerConfig { BootstrapServers = broker.BootstrapServers }).Build())
        {
            for (var i = 0; i < 10; i++)
            {
                producer.Produce("lag-topic", new Message<byte[], byte[]> { Key = [], Value = Encoding.UTF8.GetBytes($"record-{i}") });
            }

            Assert.Equal(0, producer.Flush(TimeSpan.FromSeconds(30)));
        }

        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        using var readings = new Readings();
        var factory = Factory(broker.BootstrapServers, new KafkaMetrics(services.GetRequiredService<IMeterFactory>()));
        using var consumer = factory.CreateConsumer("lag-group", "lag-client");
        consumer.Subscribe("lag-topic");

        // Four of ten consumed, their offsets stored and committed, as a service does once its outputs are acknowledged.
        var consumed = 0;
        Assert.True(SharedClients.PollUntil([consumer], () => consumed >= 4, (c, record) =>
        {
            if (consumed < 4)
            {
                consumed++;
                c.StoreOffset(record);
                if (consumed == 4)
                {
                    c.Commit();
                    // Stop fetching, so the rest stays unconsumed while the lag is read.
                    c.Pause(c.Assignment);
                }
            }
        }), "four records consumed");
        Assert.True(SharedClients.PollUntil([consumer], () => readings.Lag("lag-group", "lag-topic", "0") == 6), $"lag 6 on the gauge; saw {readings.Describe()}");

        consumer.Resume(consumer.Assignment);
        Assert.True(SharedClients.PollUntil([consumer], () => consumed == 10 && readings.Lag("lag-group", "lag-topic", "0") == 0, (c, record) =>
        {
            consumed++;
            c.StoreOffset(record);
            c.Commit();
        }), $"lag 0 once caught up; saw {readings.Describe()}");

        Assert.Equal(1, readings.Counter("messaging.kafka.consumer.rebalances", "lag-group", "assigned"));
        Assert.Equal(0, readings.Counter("messaging.kafka.consumer.rebalances", "lag-group", "lost"));
        Assert.True(readings.Seen("messaging.kafka.broker.rtt"), "a broker round trip from the statistics");
        Assert.True(readings.Seen("messaging.kafka.broker.errors"), "the broker error counts from the statistics");
    }

    [Fact]
    public void Parse_StatisticsDocument_KeepsKnownLagsAndClusterBrokersOnly()
    {
        const string Json = """
            {"name":"c#consumer-1","type":"consumer","msg_cnt":7,
             "brokers":{
               "GroupCoordinator":{"name":"GroupCoordinator","nodeid":-1,"source":"logical","rtt":{"avg":9,"cnt":1}},
               "127.0.0.1:9092/bootstrap":{"name":"127.0.0.1:9092/bootstrap","nodeid":-1,"source":"configured"},
               "127.0.0.1:40001/1":{"name":"127.0.0.1:40001/1","nodeid":1,"nodename":"127.0.0.1:40001","source":"learned","txerrs":2,"rxerrs":3,"req_timeouts":1,"rtt":{"avg":2500,"cnt":4}}},
             "topics":{"t":{"topic":"t","partitions":{
               "0":{"partition":0,"consumer_lag":12},
               "1":{"partition":1,"consumer_lag":-1},
               "-1":{"partition":-1,"consumer_lag":-1}}}}}
            """;

        var statistics = KafkaStatistics.Parse(Json)!;

        Assert.Equal([new PartitionLag("t", 0, 12)], statistics.Lags);
        var broker = Assert.Single(statistics.Brokers);
        Assert.Equal(new BrokerFigures("127.0.0.1:40001", 0.0025, 2, 3, 1), broker);
        Assert.Equal(7, statistics.QueuedMessages);
        Assert.Null(KafkaStatistics.Parse("not json"));
    }

    private static KafkaClientFactory Factory(string bootstrap, KafkaMetrics metrics)
    {
        var options = Options.Create(new KafkaOptions
        {
            BootstrapServers = bootstrap,
            Health = new KafkaHealthOptions { StatisticsIntervalMs = 200 },
        });
        return new KafkaClientFactory(options, new ConfigurationBuilder().Build(), NullLoggerFactory.Instance, new KafkaHealth(options, TimeProvider.System), metrics);
    }

    /// <summary>The Mesh.Kafka instruments' latest measurements, observable ones collected at each read.</summary>
    private sealed class Readings : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly Lock _gate = new();
        private readonly Dictionary<string, double> _last = new(StringComparer.Ordinal);
        private readonly Dictionary<string, double> _sums = new(StringComparer.Ordinal);

        public Readings()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == KafkaMetrics.MeterName)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, tags));
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, tags));
            _listener.Start();
        }

        public long? Lag(string group, string topic, string partition)
        {
            Collect();
            lock (_gate)
            {
                return _last.TryGetValue($"messaging.kafka.consumer.lag|{group}|{topic}|{partition}", out var value) ? (long)value : null;
            }
        }

        /// <summary>
        /// The counter's total for one group and event. Other tests' consumers in this process report on meters of the
        /// same name, which this listener hears too, so the group is part of what is read.
        /// </summary>
        public double Counter(string name, string group, string kind)
        {
            lock (_gate)
            {
                return _sums.GetValueOrDefault($"{name}|{group}|{kind}");
            }
        }

        public bool Seen(string name)
        {
            Collect();
            lock (_gate)
            {
                return _last.Keys.Any(k => k == name || k.StartsWith(name + "|", StringComparison.Ordinal));
            }
        }

        public string Describe()
        {
            lock (_gate)
            {
                return string.Join("; ", _last.Select(l => $"{l.Key}={l.Value}"));
            }
        }

        public void Dispose() => _listener.Dispose();

        private void Collect() => _listener.RecordObservableInstruments();

        private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var key = instrument.Name;
            foreach (var name in new[] { "messaging.consumer.group.name", "messaging.destination.name", "messaging.destination.partition.id", "event" })
            {
                foreach (var tag in tags)
                {
                    if (tag.Key == name)
                    {
                        key += "|" + tag.Value;
                    }
                }
            }

            lock (_gate)
            {
                _last[key] = value;
                _sums[key] = _sums.GetValueOrDefault(key) + value;
            }
        }
    }
}
