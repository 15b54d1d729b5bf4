namespace Mesh.Deploy.Tests.Services;

/// <summary>
/// Loads a service's built assembly, and the Mesh libraries it really uses, from its own output folder (its own
/// load context, so five services with five dependency sets never meet), for reflection over its options.
/// </summary>
internal static class ServiceAssemblies
{
    private static readonly ConcurrentDictionary<string, Lazy<IReadOnlyList<Assembly>>> s_loaded = new(StringComparer.Ordinal);

    /// <summary>The service assembly first, then each <c>Mesh.*</c> assembly its code references.</summary>
    public static IReadOnlyList<Assembly> Load(MeshService service) =>
        s_loaded.GetOrAdd(service.Name, _ => new Lazy<IReadOnlyList<Assembly>>(() => LoadNow(service))).Value;

    public static IEnumerable<Type> Types(Assembly assembly)
    {
        try
        {
            return assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException e)
        {
            return e.Types.Where(t => t is not null)!;
        }
    }

    public static Type? FindType(MeshService service, string fullName) =>
        Load(service).Select(a => a.GetType(fullName)).FirstOrDefault(t => t is not null);

    private static List<Assembly> LoadNow(MeshService service)
    {
        if (!File.Exists(service.BinaryPath))
        {
            throw new InvalidOperationException($"{service.BinaryPath} is missing: build the solution (or this test project) first.");
        }

        var context = new ServiceLoadContext(service.BinaryPath);
        var main = context.LoadFromAssemblyPath(service.BinaryPath);
        var assemblies = new List<Assembly> { main };
        var pending = new Queue<Assembly>([main]);
        while (pending.Count > 0)
        {
            foreach (var reference in pending.Dequeue().GetReferencedAssemblies())
            {
                // The compiler keeps only the references the code uses: a library in the project file that no code
                // touches (the model host's Mesh.Kafka) binds nothing.
                if (reference.Name is { } name && name.StartsWith("Mesh.", StringComparison.Ordinal) && assemblies.All(a => a.GetName().Name != name))
                {
                    var loaded = context.LoadFromAssemblyName(reference);
                    assemblies.Add(loaded);
                    pending.Enqueue(loaded);
                }
            }
        }

        return assemblies;
    }

    private sealed class ServiceLoadContext(string mainAssembly) : AssemblyLoadContext(Path.GetFileNameWithoutExtension(mainAssembly), isCollectible: false)
    {
        private readonly AssemblyDependencyResolver _resolver = new(mainAssembly);

        protected override Assembly? Load(AssemblyName assemblyName)
        {
            // The shared framework comes from the default context; the service's own dependencies from its folder.
            if (Default.Assemblies.Any(a => a.GetName().Name == assemblyName.Name) && !(assemblyName.Name ?? "").StartsWith("Mesh.", StringComparison.Ordinal))
            {
                return null;
            }

            return _resolver.ResolveAssemblyToPath(assemblyName) is { } path ? LoadFromAssemblyPath(path) : null;
        }

        protected override IntPtr LoadUnmanagedDll(string unmanagedDllName) =>
            _resolver.ResolveUnmanagedDllToPath(unmanagedDllName) is { } path ? LoadUnmanagedDllFromPath(path) : IntPtr.Zero;
    }
}
