using System.Text;
using Mesh.Consumer.Options;

namespace Mesh.Consumer.Output;

/// <summary>JSON lines to stdout or appended to a file, buffered until <see cref="Flush"/>.</summary>
internal sealed class StreamLineSink(TextWriter writer, string description) : ILineSink
{
    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false);

    public string Description => description;

    public static StreamLineSink Open(string output)
    {
        if (ConsumerOptions.IsStdout(output))
        {
            return new StreamLineSink(new StreamWriter(Console.OpenStandardOutput(), s_utf8, 1 << 16) { AutoFlush = false, NewLine = "\n" }, "stdout");
        }

        var path = Path.GetFullPath(output, Directory.GetCurrentDirectory());
        var directory = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var stream = new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read, 1 << 16);
        return new StreamLineSink(new StreamWriter(stream, s_utf8, 1 << 16) { AutoFlush = false, NewLine = "\n" }, path);
    }

    public void WriteLine(string line) => writer.WriteLine(line);

    // Flushed to the operating system: the line survives this process dying, which is what at-least-once needs here.
    public void Flush() => writer.Flush();

    public void Dispose() => writer.Dispose();
}
