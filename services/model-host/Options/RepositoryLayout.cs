namespace Mesh.ModelHost.Options;

/// <summary>
/// The repository layout: <c>&lt;model-name&gt;/&lt;version&gt;/model.onnx</c> (+ optional <c>config.json</c>); a chain
/// is a version folder with a <c>config.json</c> that lists its <c>steps</c> and no model.onnx.
/// </summary>
internal static class RepositoryLayout
{
    public const string ModelFileName = "model.onnx";
    public const string ConfigFileName = "config.json";

    public static IEnumerable<(string Name, string Version, string Folder)> FindModelFiles(string repository)
    {
        foreach (var modelFolder in Directory.EnumerateDirectories(repository).Order(StringComparer.Ordinal))
        {
            foreach (var versionFolder in Directory.EnumerateDirectories(modelFolder).Order(StringComparer.Ordinal))
            {
                if (File.Exists(Path.Combine(versionFolder, ModelFileName)))
                {
                    yield return (Path.GetFileName(modelFolder), Path.GetFileName(versionFolder), versionFolder);
                }
            }
        }
    }

    /// <summary>Version folders with a config.json and no model.onnx: the candidates for chains.</summary>
    public static IEnumerable<(string Name, string Version, string Folder)> FindChainFolders(string repository)
    {
        foreach (var modelFolder in Directory.EnumerateDirectories(repository).Order(StringComparer.Ordinal))
        {
            foreach (var versionFolder in Directory.EnumerateDirectories(modelFolder).Order(StringComparer.Ordinal))
            {
                if (!File.Exists(Path.Combine(versionFolder, ModelFileName)) && File.Exists(Path.Combine(versionFolder, ConfigFileName)))
                {
                    yield return (Path.GetFileName(modelFolder), Path.GetFileName(versionFolder), versionFolder);
                }
            }
        }
    }

    /// <summary>
    /// The folder of a chain step named <c>name</c> (its highest version, numeric versions compared as numbers) or
    /// <c>name/version</c>; null when the repository has no such model.
    /// </summary>
    public static string? FindStepFolder(string repository, string step)
    {
        var parts = step.Trim().Split('/');
        if (parts.Length is < 1 or > 2 || parts.Any(p => p.Length == 0 || p == "." || p == ".."))
        {
            return null;
        }

        var modelFolder = Path.Combine(repository, parts[0]);
        if (parts.Length == 2)
        {
            var folder = Path.Combine(modelFolder, parts[1]);
            return File.Exists(Path.Combine(folder, ModelFileName)) ? folder : null;
        }

        return !Directory.Exists(modelFolder)
            ? null
            : Directory.EnumerateDirectories(modelFolder)
                .Where(f => File.Exists(Path.Combine(f, ModelFileName)))
                .OrderBy(f => long.TryParse(Path.GetFileName(f), out var n) ? n : long.MinValue)
                .ThenBy(f => Path.GetFileName(f), StringComparer.Ordinal)
                .LastOrDefault();
    }
}
