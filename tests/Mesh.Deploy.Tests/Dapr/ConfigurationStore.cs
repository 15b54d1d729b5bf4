namespace Mesh.Deploy.Tests.Dapr;

/// <summary>The stand-in's configuration store: values with versions, and the open subscriptions they are pushed to.</summary>
internal sealed class ConfigurationStore
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, ConfigurationItem> _items = new(StringComparer.Ordinal);
    private readonly List<Channel<Dictionary<string, ConfigurationItem>>> _subscribers = [];
    private int _version;

    public int Subscriptions
    {
        get
        {
            lock (_lock)
            {
                return _subscribers.Count;
            }
        }
    }

    public void Set(string key, string value)
    {
        lock (_lock)
        {
            var item = new ConfigurationItem { Value = value, Version = (++_version).ToString(System.Globalization.CultureInfo.InvariantCulture) };
            _items[key] = item;
            foreach (var subscriber in _subscribers)
            {
                subscriber.Writer.TryWrite(new Dictionary<string, ConfigurationItem>(StringComparer.Ordinal) { [key] = item });
            }
        }
    }

    public Dictionary<string, ConfigurationItem> Get(IEnumerable<string> keys)
    {
        lock (_lock)
        {
            var wanted = keys.ToList();
            return _items.Where(i => wanted.Count == 0 || wanted.Contains(i.Key)).ToDictionary(i => i.Key, i => i.Value, StringComparer.Ordinal);
        }
    }

    public Channel<Dictionary<string, ConfigurationItem>> Subscribe()
    {
        var channel = Channel.CreateUnbounded<Dictionary<string, ConfigurationItem>>();
        lock (_lock)
        {
            _subscribers.Add(channel);
        }

        return channel;
    }

    public void Unsubscribe(Channel<Dictionary<string, ConfigurationItem>> channel)
    {
        lock (_lock)
        {
            _subscribers.Remove(channel);
        }
    }
}
