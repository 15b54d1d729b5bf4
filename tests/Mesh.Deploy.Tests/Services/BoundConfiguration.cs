namespace Mesh.Deploy.Tests.Services;

/// <summary>
/// Every configuration key a service binds, derived from its options types (any type with a <c>SectionName</c>
/// constant, wherever its namespace moves), Confluent's client configs under <c>Kafka:Producer</c> and
/// <c>Kafka:Consumer</c>, the Kestrel endpoints and <c>Urls</c> its appsettings.json declares, and the environment
/// variables the MLflow client reads. A key is a path of segments; <c>*</c> matches any one segment (a dictionary
/// key) and <c>#</c> a list index.
/// </summary>
internal sealed class BoundConfiguration
{
    private const int MaxDepth = 8;
    private readonly List<string[]> _patterns = [];
    private readonly List<string> _environmentNames = [];

    private BoundConfiguration()
    {
    }

    public int PatternCount => _patterns.Count;

    /// <summary>True when <paramref name="environmentName"/> (<c>Router__GroupId</c>) is a key the service reads.</summary>
    public bool Binds(string environmentName)
    {
        if (_environmentNames.Contains(environmentName, StringComparer.Ordinal) || IsHostVariable(environmentName))
        {
            return true;
        }

        var segments = environmentName.Split("__");
        return _patterns.Any(p => Matches(p, segments));
    }

    public static BoundConfiguration For(MeshService service)
    {
        var bound = new BoundConfiguration();
        var assemblies = ServiceAssemblies.Load(service);
        foreach (var type in assemblies.SelectMany(ServiceAssemblies.Types))
        {
            if (type.GetField("SectionName", BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static) is { IsLiteral: true } field &&
                field.GetRawConstantValue() is string section)
            {
                bound.AddType(type, section.Split(':'), 0);
            }
        }

        if (assemblies.Any(a => a.GetName().Name == "Mesh.Kafka"))
        {
            // KafkaClientFactory binds these sections straight into Confluent's configs.
            var confluent = assemblies.SelectMany(a => a.GetReferencedAssemblies()).First(n => n.Name == "Confluent.Kafka");
            var kafka = assemblies.First(a => a.GetName().Name == "Mesh.Kafka");
            var confluentAssembly = System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(kafka)!.LoadFromAssemblyName(confluent);
            bound.AddType(confluentAssembly.GetType("Confluent.Kafka.ProducerConfig", throwOnError: true)!, ["Kafka", "Producer"], 0);
            bound.AddType(confluentAssembly.GetType("Confluent.Kafka.ConsumerConfig", throwOnError: true)!, ["Kafka", "Consumer"], 0);
        }

        if (assemblies.FirstOrDefault(a => a.GetName().Name == "Mesh.Mlflow")?.GetType("Mesh.Mlflow.MlflowClientOptions") is { } mlflow)
        {
            // MLflow's own environment variables, exactly the ones the client reads.
            var read = new Func<string, string?>(name =>
            {
                bound._environmentNames.Add(name);
                return null;
            });
            mlflow.GetMethod("FromEnvironment", BindingFlags.Public | BindingFlags.Static)!.Invoke(null, [read]);
        }

        var settings = service.AppSettings();
        if (settings["Urls"] is not null)
        {
            bound._patterns.Add(["Urls"]);
        }

        if (settings["Kestrel"]?["Endpoints"] is JsonObject endpoints)
        {
            foreach (var (name, _) in endpoints)
            {
                bound._patterns.Add(["Kestrel", "Endpoints", name, "Url"]);
                bound._patterns.Add(["Kestrel", "Endpoints", name, "Protocols"]);
            }
        }

        bound._patterns.Add(["Logging", "LogLevel", "*"]);
        return bound;
    }

    private static bool IsHostVariable(string name) =>
        name.StartsWith("ASPNETCORE_", StringComparison.Ordinal) ||
        name.StartsWith("DOTNET_", StringComparison.Ordinal) ||
        name.StartsWith("OTEL_", StringComparison.Ordinal);

    private static bool Matches(string[] pattern, string[] key) =>
        pattern.Length == key.Length &&
        pattern.Zip(key).All(p => p.First == "*" || (p.First == "#" ? int.TryParse(p.Second, out _) : string.Equals(p.First, p.Second, StringComparison.OrdinalIgnoreCase)));

    private void AddType(Type type, string[] prefix, int depth)
    {
        if (depth > MaxDepth)
        {
            return;
        }

        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || property.GetMethod is null)
            {
                continue;
            }

            var writable = property.SetMethod is { IsPublic: true };
            string[] path = [.. prefix, property.Name];
            AddValue(property.PropertyType, path, writable, depth);
        }
    }

    private void AddValue(Type type, string[] path, bool writable, int depth)
    {
        var underlying = Nullable.GetUnderlyingType(type) ?? type;
        if (IsLeaf(underlying))
        {
            if (writable)
            {
                _patterns.Add(path);
            }

            return;
        }

        if (DictionaryValueType(underlying) is { } value)
        {
            AddValue(value, [.. path, "*"], writable: true, depth + 1);
            return;
        }

        if (underlying != typeof(string) && typeof(IEnumerable).IsAssignableFrom(underlying))
        {
            // The binder fills a settable or mutable list; a read-only view (IReadOnlyList without a setter) is skipped.
            if (writable || !underlying.IsInterface)
            {
                var element = underlying.IsArray ? underlying.GetElementType()! : underlying.GetGenericArguments().FirstOrDefault() ?? typeof(string);
                AddValue(element, [.. path, "#"], writable: true, depth + 1);
            }

            return;
        }

        if (underlying.IsClass)
        {
            AddType(underlying, path, depth + 1);
        }
    }

    private static Type? DictionaryValueType(Type type)
    {
        var dictionary = type.IsGenericType && type.GetGenericTypeDefinition() == typeof(IDictionary<,>)
            ? type
            : type.GetInterfaces().FirstOrDefault(i => i.IsGenericType && i.GetGenericTypeDefinition() == typeof(IDictionary<,>));
        return dictionary?.GetGenericArguments()[1];
    }

    private static bool IsLeaf(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(decimal) || type == typeof(TimeSpan) ||
        type == typeof(Uri) || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(Guid);
}
