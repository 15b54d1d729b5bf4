using System.Text;
using Mesh.Consumer.Options;

namespace Mesh.Consumer.Output;

/// <summary>Lines to stdout or appended to one file, buffered until <see cref="Flush"/>.</summary>
internal sealed class StreamLineSink(TextWriter writer, string description, FileStream? file = null, bool fsync = false) : ILineSink
{
    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public string Description => description;

    /// <summary>Opens stdout or the file (appending); <paramref name="header"/> starts a file that is empty.</summary>
    public static StreamLineSink Open(string output, string? header = null, bool fsync = false)
    {
        if (ConsumerOptions.IsStdout(output))
        {
            var stdout = new StreamLineSink(new StreamWriter(Console.OpenStandardOutput(), s_utf8, 1 << 16) { AutoFlush = false, NewLine = "\n" }, "stdout");
            if (header is not null)
            {
                stdout.WriteLine(header);
            }

            return stdout;
        }

        var path = Path.GetFullPath(output, Directory.GetCurrentDirectory());
        var directory = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, 1 << 16);
        var sink = new StreamLineSink(new StreamWriter(stream, s_utf8, 1 << 16) { AutoFlush = false, NewLine = "\n" }, path, stream, fsync);
        if (header is not null && stream.Length == 0)
        {
            sink.WriteLine(header);
        }

        return sink;
    }

    public void WriteLine(string line) => writer.WriteLine(line);

    public void Flush()
    {
        writer.Flush();
        // To the disk, not only the page cache, before offsets move on: a power cut then loses nothing either.
        file?.Flush(flushToDisk: fsync);
    }

    public void Dispose() => writer.Dispose();
}
