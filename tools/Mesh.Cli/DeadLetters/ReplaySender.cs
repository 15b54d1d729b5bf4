using Confluent.Kafka;

namespace Mesh.Cli.DeadLetters;

/// <summary>Sends a plan's records and waits for every delivery report; the reports, not the sends, are counted.</summary>
internal sealed class ReplaySender(IProducer<byte[], byte[]> producer)
{
    private readonly object _gate = new();
    private readonly List<(ReplayItem, string)> _failures = [];
    private int _acknowledged;
    private int _sent;

    public ReplayDelivery Send(IReadOnlyList<ReplayItem> items, ReplayProgressBar? bar, CancellationToken cancellationToken)
    {
        foreach (var item in items)
        {
            cancellationToken.ThrowIfCancellationRequested();
            try
            {
                producer.Produce(item.Topic, item.Message, report => OnReport(item, report.Error));
                _sent++;
            }
            catch (ProduceException<byte[], byte[]> e)
            {
                OnReport(item, e.Error);
            }

            Draw(bar, force: false);
        }

        while (producer.Flush(TimeSpan.FromMilliseconds(250)) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Draw(bar, force: false);
        }

        lock (_gate)
        {
            bar?.Finish(_sent, _acknowledged, _failures.Count);
            return new ReplayDelivery(_acknowledged, [.. _failures]);
        }
    }

    // Delivery reports arrive on librdkafka's thread (inside Produce and Flush here), hence the lock.
    private void OnReport(ReplayItem item, Error error)
    {
        lock (_gate)
        {
            if (error.IsError)
            {
                _failures.Add((item, error.Reason));
            }
            else
            {
                _acknowledged++;
            }
        }
    }

    private void Draw(ReplayProgressBar? bar, bool force)
    {
        if (bar is not null)
        {
            lock (_gate)
            {
                bar.Draw(_sent, _acknowledged, _failures.Count, force);
            }
        }
    }
}
