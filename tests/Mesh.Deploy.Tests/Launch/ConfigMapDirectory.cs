namespace Mesh.Deploy.Tests.Launch;

/// <summary>
/// A ConfigMap volume laid out as the kubelet lays it out (its atomic writer): the files live in a timestamped
/// folder <c>..2026_12_01_15_00_00.000000001</c>, <c>..data</c> is a symlink to that folder, and each key is a
/// symlink <c>key -> ..data/key</c>. An update writes a new folder, points a temporary symlink at it and renames
/// that over <c>..data</c> (one atomic step), then deletes the old folder: the key's path never changes, only
/// what it resolves to.
/// </summary>
internal sealed class ConfigMapDirectory(string path)
{
    private const string DataLink = "..data";
    private int _generation;

    public string Path { get; } = path;

    public void Write(IReadOnlyDictionary<string, string> data)
    {
        Directory.CreateDirectory(Path);
        var previous = Directory.Exists(System.IO.Path.Combine(Path, DataLink))
            ? new FileInfo(System.IO.Path.Combine(Path, DataLink)).LinkTarget
            : null;
        var folder = $"..{DateTime.UtcNow:yyyy_MM_dd_HH_mm_ss}.{Interlocked.Increment(ref _generation).ToString(CultureInfo.InvariantCulture).PadLeft(9, '0')}";
        Directory.CreateDirectory(System.IO.Path.Combine(Path, folder));
        foreach (var (key, value) in data)
        {
            File.WriteAllText(System.IO.Path.Combine(Path, folder, key), value);
        }

        var temporary = System.IO.Path.Combine(Path, "..data_tmp");
        File.Delete(temporary);
        File.CreateSymbolicLink(temporary, folder);
        // rename(2) over the old link: readers see the old files or the new ones, never a mix.
        Libc.Rename(temporary, System.IO.Path.Combine(Path, DataLink));
        foreach (var key in data.Keys)
        {
            var link = System.IO.Path.Combine(Path, key);
            if (!File.Exists(link))
            {
                File.CreateSymbolicLink(link, System.IO.Path.Combine(DataLink, key));
            }
        }

        if (previous is not null)
        {
            Directory.Delete(System.IO.Path.Combine(Path, previous), recursive: true);
        }
    }
}
