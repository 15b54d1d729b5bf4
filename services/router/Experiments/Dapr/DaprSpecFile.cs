namespace Mesh.Router.Experiments.Dapr;

/// <summary>The spec file the Dapr source keeps; replaced whole (write beside, then rename) so a reader never sees half of it.</summary>
internal static class DaprSpecFile
{
    public static void Write(string path, string text)
    {
        var full = Path.GetFullPath(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temporary = full + ".tmp";
        File.WriteAllText(temporary, text);
        File.Move(temporary, full, overwrite: true);
    }

    /// <summary>The store's value when the router's spec loader accepts it; otherwise null and an error naming the setting.</summary>
    public static string? Validate(string? text, DaprSourceOptions options, out string? error)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            error = $"Router:Experiments:Dapr:Key: the store '{options.Store}' has no value for key '{options.Key}'.";
            return null;
        }

        // The router's own loader decides, as for a file: the same rules, the same messages.
        var loaded = ExperimentSpecLoader.Parse(text, $"dapr:{options.Store}/{options.Key}");
        error = loaded.Spec is null ? string.Join(" ", loaded.Errors) : null;
        return loaded.Spec is null ? null : text;
    }
}
