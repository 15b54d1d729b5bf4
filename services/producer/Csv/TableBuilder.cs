using System.Globalization;

namespace Mesh.Producer.Csv;

/// <summary>
/// Turns the cells of any source (CSV, JSON lines, Parquet) into feature rows by the column mapping, so every
/// format reports the same problems the same way: a mapped column the file lacks stops the run naming the
/// setting; a bad row is skipped with its line and the reason.
/// </summary>
internal sealed class TableBuilder
{
    private readonly string _source;
    private readonly string[] _header;
    private readonly int _label;
    private readonly int _entityId;
    private readonly int _requestId;
    private readonly int _eventTime;
    private readonly int[] _features;
    private readonly int[] _outcomes;
    private readonly List<FeatureRow> _rows = [];
    private readonly List<CsvRowError> _errors = [];

    public TableBuilder(string source, int headerLine, string[] header, ColumnMapping mapping)
    {
        _source = source;
        _header = header;
        _label = Array.FindIndex(header, h => string.Equals(h, mapping.Label, StringComparison.OrdinalIgnoreCase));
        if (_label < 0)
        {
            throw new InvalidDataException($"{source}:{headerLine}: the header has no label column '{mapping.Label}' (Producer:LabelColumn); columns: {string.Join(", ", header)}.");
        }

        _entityId = Find(mapping.EntityId, "Producer:Columns:EntityId", headerLine);
        _requestId = Find(mapping.RequestId, "Producer:Columns:RequestId", headerLine);
        _eventTime = Find(mapping.EventTime, "Producer:Columns:EventTime", headerLine);
        _outcomes = [.. mapping.Outcomes.Select(o => Find(o, "Producer:Columns:Outcomes", headerLine))];
        if (mapping.Features.Count > 0)
        {
            _features = mapping.Features.Select(f => Find(f, "Producer:Columns:Features", headerLine)).ToArray();
        }
        else
        {
            int[] taken = [_label, _entityId, _requestId, _eventTime, .. _outcomes];
            _features = Enumerable.Range(0, header.Length).Where(i => !taken.Contains(i)).ToArray();
        }

        if (_features.Length == 0)
        {
            throw new InvalidDataException($"{source}:{headerLine}: the header has no feature columns besides '{mapping.Label}'.");
        }
    }

    public int ColumnCount => _header.Length;

    public void Skip(int line, string reason) => _errors.Add(new CsvRowError(_source, line, reason));

    /// <summary>Adds a row given as one cell per header column (null or empty: missing).</summary>
    public void Add(int line, IReadOnlyList<string?> cells)
    {
        var values = new float[_features.Length];
        for (var f = 0; f < _features.Length; f++)
        {
            var i = _features[f];
            var cell = cells[i];
            if (string.IsNullOrEmpty(cell))
            {
                Skip(line, $"missing value for feature '{_header[i]}'");
                return;
            }

            if (!float.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || !float.IsFinite(value))
            {
                Skip(line, $"feature '{_header[i]}' is not a number: '{cell}'");
                return;
            }

            values[f] = value;
        }

        var label = cells[_label];
        if (string.IsNullOrEmpty(label))
        {
            Skip(line, $"missing label '{_header[_label]}'");
            return;
        }

        DateTime? eventTime = null;
        if (_eventTime >= 0 && !string.IsNullOrEmpty(cells[_eventTime]))
        {
            if (!DateTime.TryParse(cells[_eventTime], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var parsed))
            {
                Skip(line, $"event time '{_header[_eventTime]}' is not a date and time: '{cells[_eventTime]}'");
                return;
            }

            eventTime = parsed;
        }

        Dictionary<string, double>? outcomes = _outcomes.Length == 0 ? null : new(StringComparer.Ordinal);
        foreach (var i in _outcomes)
        {
            if (string.IsNullOrEmpty(cells[i]))
            {
                // Missing for this label: the metrics sink counts it as missing rather than as zero.
                continue;
            }

            if (!double.TryParse(cells[i], NumberStyles.Float, CultureInfo.InvariantCulture, out var outcome) || !double.IsFinite(outcome))
            {
                Skip(line, $"outcome '{_header[i]}' is not a number: '{cells[i]}'");
                return;
            }

            outcomes![_header[i]] = outcome;
        }

        _rows.Add(new FeatureRow(line, values, label)
        {
            Outcomes = outcomes,
            EntityId = _entityId >= 0 && !string.IsNullOrEmpty(cells[_entityId]) ? cells[_entityId] : null,
            RequestId = _requestId >= 0 && !string.IsNullOrEmpty(cells[_requestId]) ? cells[_requestId] : null,
            EventTime = eventTime,
        });
    }

    public FeatureTable Build() => new(_source, _features.Select(i => _header[i]).ToArray(), _rows, _errors);

    private int Find(string? column, string setting, int headerLine)
    {
        if (column is null)
        {
            return -1;
        }

        var index = Array.FindIndex(_header, h => string.Equals(h, column, StringComparison.OrdinalIgnoreCase));
        return index >= 0
            ? index
            : throw new InvalidDataException($"{_source}:{headerLine}: column '{column}' ({setting}) is not in the file; columns: {string.Join(", ", _header)}.");
    }
}
