using System.Runtime.InteropServices;

namespace Mesh.Deploy.Tests.Launch;

/// <summary>The two POSIX calls the kubelet's behaviour needs: an atomic rename over a symlink, and SIGTERM.</summary>
internal static class Libc
{
    public const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "rename", SetLastError = true)]
    private static extern int RenameNative([MarshalAs(UnmanagedType.LPUTF8Str)] string oldPath, [MarshalAs(UnmanagedType.LPUTF8Str)] string newPath);

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int KillNative(int pid, int signal);

    public static void Rename(string oldPath, string newPath)
    {
        if (RenameNative(oldPath, newPath) != 0)
        {
            throw new IOException($"rename({oldPath}, {newPath}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public static void Terminate(int pid) => KillNative(pid, SigTerm);
}
