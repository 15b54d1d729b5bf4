namespace Mesh.Router.Tests;

/// <summary>
/// The router's folders (one namespace each) must not import each other in a circle: a newcomer changing
/// <c>Options</c> should not have to read <c>Experiments</c>, and the other way round at the same time.
/// Read from the sources, so the rule holds for every file, not only the types a test happens to touch.
/// </summary>
public sealed partial class RouterNamespaceTests
{
    [Fact]
    public void RouterNamespaces_ReferencesBetweenFolders_HaveNoCycle()
    {
        var graph = ReadNamespaceGraph(Path.Combine(TestRepository.Root, "services", "router"));

        // Sanity: the reader sees the references that are known to exist, so an empty graph cannot pass.
        Assert.Contains("Mesh.Router.Options", graph["Mesh.Router.Experiments"].Keys);
        Assert.Contains("Mesh.Router.Experiments", graph["Mesh.Router.Routing"].Keys);

        var cycle = FindCycle(graph);

        Assert.True(cycle is null, cycle is null ? null : "Namespace cycle: " + string.Join(" -> ", cycle) + Environment.NewLine + Describe(graph, cycle));
    }

    [Fact]
    public void FindCycle_TwoFoldersUsingEachOther_NamesBoth()
    {
        var graph = new Dictionary<string, Dictionary<string, List<string>>>
        {
            ["A"] = new() { ["B"] = ["a.cs"] },
            ["B"] = new() { ["C"] = ["b.cs"] },
            ["C"] = new() { ["A"] = ["c.cs"] },
            ["D"] = new() { ["A"] = ["d.cs"] },
        };

        var cycle = FindCycle(graph);

        Assert.NotNull(cycle);
        Assert.Equal(new[] { "A", "B", "C", "A" }, cycle);
    }

    /// <summary>
    /// Namespace → the router namespaces it uses → the files that use them. A file uses another namespace through a
    /// <c>using Mesh.Router...;</c> line or a fully qualified name, or, needing neither, through a type declared in an
    /// enclosing namespace such as <c>Mesh.Router</c> itself (found by the type's name, so a member named like such
    /// a type counts too: stricter, never looser).
    /// </summary>
    private static Dictionary<string, Dictionary<string, List<string>>> ReadNamespaceGraph(string root)
    {
        var files = Directory.EnumerateFiles(root, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Split(Path.DirectorySeparatorChar).Any(part => part is "obj" or "bin"))
            .Select(f => (Path: Path.GetRelativePath(root, f), Text: StripCommentsAndStrings(File.ReadAllText(f))))
            .Select(f => (f.Path, f.Text, Namespace: NamespaceLine().Match(f.Text) is { Success: true } m ? m.Groups[1].Value : null))
            .Where(f => f.Namespace is not null)
            .ToList();

        var declaredIn = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var file in files)
        {
            foreach (Match declaration in TypeDeclaration().Matches(file.Text))
            {
                var name = declaration.Groups[1].Value;
                if (!declaredIn.TryGetValue(name, out var namespaces))
                {
                    declaredIn[name] = namespaces = [];
                }

                namespaces.Add(file.Namespace!);
            }
        }

        var graph = files.Select(f => f.Namespace!).Distinct().ToDictionary(n => n, _ => new Dictionary<string, List<string>>(StringComparer.Ordinal));
        foreach (var file in files)
        {
            var used = new HashSet<string>(StringComparer.Ordinal);
            foreach (Match name in QualifiedName().Matches(file.Text))
            {
                // Mesh.Router.Experiments.ExperimentSpecLoader: the longest prefix that is a namespace of the router.
                var parts = name.Value.Split('.');
                var known = Enumerable.Range(2, parts.Length - 1).Select(n => string.Join('.', parts[..n])).LastOrDefault(graph.ContainsKey);
                if (known is not null)
                {
                    used.Add(known);
                }
            }

            foreach (Match identifier in Identifier().Matches(file.Text))
            {
                if (declaredIn.TryGetValue(identifier.Value, out var namespaces))
                {
                    used.UnionWith(namespaces.Where(n => file.Namespace!.StartsWith(n + ".", StringComparison.Ordinal)));
                }
            }

            used.Remove(file.Namespace!);
            foreach (var target in used)
            {
                var edges = graph[file.Namespace!];
                if (!edges.TryGetValue(target, out var by))
                {
                    edges[target] = by = [];
                }

                by.Add(file.Path);
            }
        }

        return graph;
    }

    /// <summary>The first cycle found by a depth-first walk, as the namespaces on it with the first repeated at the end.</summary>
    private static List<string>? FindCycle(Dictionary<string, Dictionary<string, List<string>>> graph)
    {
        var done = new HashSet<string>(StringComparer.Ordinal);
        var path = new List<string>();

        List<string>? Visit(string node)
        {
            var onPath = path.IndexOf(node);
            if (onPath >= 0)
            {
                return [.. path[onPath..], node];
            }

            if (!done.Add(node))
            {
                return null;
            }

            path.Add(node);
            foreach (var next in graph.TryGetValue(node, out var edges) ? edges.Keys.Order(StringComparer.Ordinal) : Enumerable.Empty<string>())
            {
                if (Visit(next) is { } cycle)
                {
                    return cycle;
                }
            }

            path.RemoveAt(path.Count - 1);
            return null;
        }

        foreach (var node in graph.Keys.Order(StringComparer.Ordinal))
        {
            if (Visit(node) is { } cycle)
            {
                return cycle;
            }
        }

        return null;
    }

    private static string Describe(Dictionary<string, Dictionary<string, List<string>>> graph, List<string> cycle) =>
        string.Join(Environment.NewLine, cycle.Zip(cycle.Skip(1), (from, to) => $"{from} -> {to}: {string.Join(", ", graph[from][to])}"));

    private static string StripCommentsAndStrings(string text) => CommentOrString().Replace(text, m => m.Value.StartsWith('"') ? "\"\"" : " ");

    [GeneratedRegex(@"//[^\n]*|/\*.*?\*/|@?""(?:\\.|[^""\\])*""", RegexOptions.Singleline)]
    private static partial Regex CommentOrString();

    [GeneratedRegex(@"^namespace\s+([\w.]+)\s*;", RegexOptions.Multiline)]
    private static partial Regex NamespaceLine();

    [GeneratedRegex(@"\b(?:class|struct|interface|enum|record)\s+(\w+)")]
    private static partial Regex TypeDeclaration();

    [GeneratedRegex(@"\bMesh\.Router(?:\.[A-Z]\w*)*")]
    private static partial Regex QualifiedName();

    [GeneratedRegex(@"\b[A-Z]\w*\b")]
    private static partial Regex Identifier();
}
