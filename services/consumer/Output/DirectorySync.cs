using System.Runtime.InteropServices;

namespace Mesh.Consumer.Output;

/// <summary>
/// fsync of a directory: a file's data fsynced is not found after a power cut unless the directory entry that names
/// it (a new file, a rename) reached the disk too. Linux only (.NET cannot open a directory as a stream, so libc's
/// <c>open</c>, <c>fsync</c> and <c>close</c>); elsewhere it does nothing and says so.
/// </summary>
internal static partial class DirectorySync
{
    private const int ReadOnly = 0;

    /// <summary>fsyncs <paramref name="directory"/>; false where it is not supported. Throws <see cref="IOException"/> when it fails.</summary>
    public static bool Flush(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        var fd = Open(directory, ReadOnly);
        if (fd < 0)
        {
            throw new IOException($"could not open directory {directory} to fsync it (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"could not fsync directory {directory} (errno {Marshal.GetLastPInvokeError()})");
            }
        }
        finally
        {
            _ = Close(fd);
        }

        return true;
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
