namespace Mesh.ModelHost.Options;

/// <summary>The repository layout: <c>&lt;model-name&gt;/&lt;version&gt;/model.onnx</c> (+ optional <c>config.json</c>).</summary>
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
}
