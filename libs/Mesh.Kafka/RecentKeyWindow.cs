using System.Runtime.InteropServices;

namespace Mesh.Kafka;

/// <summary>
/// The most recent keys seen (request ids), bounded by count and optionally by age, so a service can tell a
/// redelivered or replayed record from a new one without memory growing with the stream. Once full, each new key
/// evicts the oldest; a key older than the age bound is forgotten. After warm-up an add allocates nothing: the ring
/// is preallocated and the dictionary reuses its freed entries. Not thread-safe: the caller serialises access.
/// </summary>
public sealed class RecentKeyWindow
{
    private readonly Dictionary<string, long> _latest;
    private readonly Entry[] _ring;
    private readonly TimeSpan _maxAge;
    private readonly TimeProvider _time;

    // Sequence numbers of the oldest entry still in the ring and of the next add; the ring holds [_oldest, _next).
    private long _oldest;
    private long _next;

    /// <param name="capacity">The most keys remembered.</param>
    /// <param name="maxAge">How long a key is remembered at most; <see cref="TimeSpan.Zero"/> for no age bound.</param>
    /// <param name="time">The clock the age bound is measured on.</param>
    public RecentKeyWindow(int capacity, TimeSpan maxAge, TimeProvider time)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAge, TimeSpan.Zero);
        _ring = new Entry[capacity];
        _latest = new Dictionary<string, long>(Math.Min(capacity, 1024), StringComparer.Ordinal);
        _maxAge = maxAge;
        _time = time;
    }

    /// <summary>Keys remembered now.</summary>
    public int Count
    {
        get
        {
            Expire();
            return _latest.Count;
        }
    }

    public bool Contains(string key)
    {
        Expire();
        return _latest.ContainsKey(key);
    }

    /// <summary>Remembers <paramref name="key"/>; false (and nothing changes) when it is remembered already.</summary>
    public bool TryAdd(string key)
    {
        Expire();
        // One hash of the key (a request id, every record) for the lookup and the add together.
        ref var sequence = ref CollectionsMarshal.GetValueRefOrAddDefault(_latest, key, out var exists);
        if (exists)
        {
            return false;
        }

        sequence = _next;
        // After the add, which the eviction's Remove must not see through the reference: the oldest entry is never
        // this key (it was not remembered), and a stale slot of it carries another sequence number.
        if (_next - _oldest == _ring.Length)
        {
            EvictOldest();
        }

        _ring[_next % _ring.Length] = new Entry(key, _next, _time.GetTimestamp());
        _next++;
        return true;
    }

    /// <summary>
    /// Forgets <paramref name="key"/> (its ring slot stays until its turn to be evicted, which then leaves a newer
    /// add of the same key alone).
    /// </summary>
    public bool Remove(string key) => _latest.Remove(key);

    private void Expire()
    {
        if (_maxAge == TimeSpan.Zero)
        {
            return;
        }

        while (_oldest < _next && _time.GetElapsedTime(_ring[_oldest % _ring.Length].AddedAt) > _maxAge)
        {
            EvictOldest();
        }
    }

    private void EvictOldest()
    {
        ref var entry = ref _ring[_oldest % _ring.Length];
        if (_latest.TryGetValue(entry.Key, out var sequence) && sequence == entry.Sequence)
        {
            _latest.Remove(entry.Key);
        }

        entry = default;
        _oldest++;
    }

    private readonly record struct Entry(string Key, long Sequence, long AddedAt);
}
