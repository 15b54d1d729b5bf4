using System.Globalization;
using System.Text;

namespace Mesh.Consumer.Output;

/// <summary>
/// Lines into a series of files named after <paramref name="pathTemplate"/> (<c>out/predictions.jsonl</c> becomes
/// <c>out/predictions-20261127T140000Z-0001.jsonl</c>, ...). A file is closed and the next one started at a flush once
/// it holds about <paramref name="maxBytes"/> or is <paramref name="maxAge"/> old: only after its lines are flushed
/// and synced, so a roll never loses a line whose offset was stored.
/// </summary>
internal sealed class RollingFileSink(string pathTemplate, long maxBytes, TimeSpan maxAge, bool fsync, string? header, TimeProvider time) : ILineSink
{
    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false);

    private readonly string _directory = Path.GetDirectoryName(Path.GetFullPath(pathTemplate, Directory.GetCurrentDirectory()))!;
    private readonly string _stem = Path.GetFileNameWithoutExtension(pathTemplate);
    private readonly string _extension = Path.GetExtension(pathTemplate);
    private FileStream? _file;
    private StreamWriter? _writer;
    private long _bytes;
    private long _openedAt;
    private int _sequence;

    public string Description => Path.Combine(_directory, $"{_stem}-<time>-<n>{_extension}");

    /// <summary>The file being written, if one is open.</summary>
    public string? CurrentPath => _file?.Name;

    public void WriteLine(string line)
    {
        if (_writer is null)
        {
            Open();
        }

        _writer!.WriteLine(line);
        // Characters, not bytes: close enough for a roll threshold, and no second pass over the line.
        _bytes += line.Length + 1;
    }

    public void Flush()
    {
        if (_writer is null)
        {
            return;
        }

        _writer.Flush();
        _file!.Flush(flushToDisk: fsync);
        if ((maxBytes > 0 && _bytes >= maxBytes) || (maxAge > TimeSpan.Zero && time.GetElapsedTime(_openedAt) >= maxAge))
        {
            Close();
        }
    }

    /// <summary>Directory fsyncs done (one per file created, with fsync on and where the OS supports it).</summary>
    public int DirectorySyncs { get; private set; }

    public void Dispose() => Close();

    private void Open()
    {
        Directory.CreateDirectory(_directory);
        var stamp = time.GetUtcNow().UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
        string path;
        do
        {
            path = Path.Combine(_directory, $"{_stem}-{stamp}-{++_sequence:0000}{_extension}");
        }
        while (File.Exists(path));

        _file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read, 1 << 16);
        if (fsync && DirectorySync.Flush(_directory))
        {
            // The new file's name is on disk too, before any of its lines is reported kept.
            DirectorySyncs++;
        }

        _writer = new StreamWriter(_file, s_utf8, 1 << 16) { AutoFlush = false, NewLine = "\n" };
        _bytes = 0;
        _openedAt = time.GetTimestamp();
        if (header is not null)
        {
            _writer.WriteLine(header);
            _bytes += header.Length + 1;
        }
    }

    private void Close()
    {
        _writer?.Dispose();
        _writer = null;
        _file = null;
    }
}
