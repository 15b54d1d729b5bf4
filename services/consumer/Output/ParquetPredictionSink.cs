using System.Globalization;
using Mesh.Contracts.V1;
using Parquet.Serialization;

namespace Mesh.Consumer.Output;

/// <summary>
/// Predictions as Parquet files. A Parquet file is readable only once its footer is written, so rows are held
/// in memory and each roll (by <paramref name="maxBytes"/> estimated or <paramref name="maxAge"/>) writes one whole
/// file: to a temporary name, fsynced, then renamed, so readers never see half a file. Until a roll,
/// <see cref="Flush"/> says the rows are not yet kept and their offsets stay unstored.
/// </summary>
internal sealed class ParquetPredictionSink(string pathTemplate, long maxBytes, TimeSpan maxAge, TimeProvider time) : IPredictionSink
{
    // About what a row costs in memory and on disk before compression: enough to bound the buffer.
    private const int EstimatedRowBytes = 200;

    private readonly string _directory = Path.GetDirectoryName(Path.GetFullPath(pathTemplate, Directory.GetCurrentDirectory()))!;
    private readonly string _stem = Path.GetFileNameWithoutExtension(pathTemplate);
    private readonly List<PredictionRow> _rows = [];
    private long _firstRowAt;
    private int _sequence;

    public string Description => Path.Combine(_directory, $"{_stem}-<time>-<n>.parquet");

    public List<string> Written { get; } = [];

    /// <summary>Directory fsyncs done (one per file, where the OS supports it).</summary>
    public int DirectorySyncs { get; private set; }

    public void Write(Prediction prediction, ArraySegment<byte> raw)
    {
        if (_rows.Count == 0)
        {
            _firstRowAt = time.GetTimestamp();
        }

        _rows.Add(PredictionRow.From(prediction));
    }

    public bool Flush(bool force)
    {
        if (_rows.Count == 0)
        {
            return true;
        }

        var due = force
            || (maxBytes > 0 && (long)_rows.Count * EstimatedRowBytes >= maxBytes)
            || (maxAge > TimeSpan.Zero && time.GetElapsedTime(_firstRowAt) >= maxAge);
        if (!due)
        {
            return false;
        }

        Directory.CreateDirectory(_directory);
        var stamp = time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        string path;
        do
        {
            path = Path.Combine(_directory, $"{_stem}-{stamp}-{++_sequence:0000}.parquet");
        }
        while (File.Exists(path));

        var temporary = Path.Combine(_directory, $".{Path.GetFileName(path)}.tmp");
        using (var stream = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        {
            // The consume loop runs on its own thread; blocking on the library's async API is what it is for.
            ParquetSerializer.SerializeAsync(_rows, stream).GetAwaiter().GetResult();
            stream.Flush(flushToDisk: true);
        }

        File.Move(temporary, path);
        // The rename itself is on disk before the rows' offsets are stored.
        if (DirectorySync.Flush(_directory))
        {
            DirectorySyncs++;
        }

        Written.Add(path);
        _rows.Clear();
        return true;
    }

    public void Dispose()
    {
    }
}
