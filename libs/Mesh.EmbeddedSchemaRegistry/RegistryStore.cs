using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Mesh.EmbeddedSchemaRegistry;

/// <summary>The stand-in registry's schemas, subjects and compatibility settings (see <see cref="StandInSchemaRegistry"/>).</summary>
public sealed class RegistryStore
{
    private readonly Lock _lock = new();
    private readonly List<StoredSchema> _schemas = [];
    private readonly Dictionary<string, List<int>> _subjects = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _subjectCompatibility = new(StringComparer.Ordinal);
    private string _compatibility = "BACKWARD";

    public static readonly string[] Levels = ["NONE", "BACKWARD", "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE", "FULL", "FULL_TRANSITIVE"];

    public IReadOnlyList<string> Subjects()
    {
        lock (_lock)
        {
            return [.. _subjects.Keys.Order(StringComparer.Ordinal)];
        }
    }

    public IReadOnlyList<int>? Versions(string subject)
    {
        lock (_lock)
        {
            return _subjects.TryGetValue(subject, out var ids) ? [.. Enumerable.Range(1, ids.Count)] : null;
        }
    }

    public StoredSchema? ById(int id)
    {
        lock (_lock)
        {
            return id >= 1 && id <= _schemas.Count ? _schemas[id - 1] : null;
        }
    }

    /// <summary>The schema at a version (1-based; -1 is latest), or why not: 40401 or 40402.</summary>
    public (StoredSchema? Schema, int Version, RegistryError? Error) At(string subject, int version)
    {
        lock (_lock)
        {
            if (!_subjects.TryGetValue(subject, out var ids))
            {
                return (null, 0, RegistryError.SubjectNotFound(subject));
            }

            var resolved = version == -1 ? ids.Count : version;
            return resolved >= 1 && resolved <= ids.Count
                ? (_schemas[ids[resolved - 1] - 1], resolved, null)
                : (null, 0, new RegistryError(404, 40402, $"Version {version} not found."));
        }
    }

    public (StoredSchema? Schema, int Version, RegistryError? Error) Lookup(string subject, SchemaRequest request)
    {
        lock (_lock)
        {
            if (!_subjects.TryGetValue(subject, out var ids))
            {
                return (null, 0, RegistryError.SubjectNotFound(subject));
            }

            var index = ids.FindIndex(id => _schemas[id - 1].SameAs(request));
            return index < 0 ? (null, 0, new RegistryError(404, 40403, "Schema not found")) : (_schemas[ids[index] - 1], index + 1, null);
        }
    }

    /// <summary>Registers a schema under a subject: its id (the same for the same schema anywhere), or why not.</summary>
    public (int Id, RegistryError? Error) Register(string subject, SchemaRequest request)
    {
        lock (_lock)
        {
            if (Validate(request) is { } invalid)
            {
                return (0, invalid);
            }

            _subjects.TryGetValue(subject, out var ids);
            if (ids?.FirstOrDefault(id => _schemas[id - 1].SameAs(request)) is int existing and > 0)
            {
                return (existing, null);
            }

            if (ids is { Count: > 0 } && Incompatibilities(subject, request, ids.Count) is { Count: > 0 } problems)
            {
                return (0, new RegistryError(409, 409,
                    $"Schema being registered is incompatible with an earlier schema for subject \"{subject}\", details: [{string.Join(", ", problems)}, {{oldSchemaVersion: {ids.Count}}}, {{compatibility: '{CompatibilityOf(subject)}'}}]"));
            }

            var stored = _schemas.FirstOrDefault(s => s.SameAs(request));
            if (stored is null)
            {
                stored = new StoredSchema(_schemas.Count + 1, request);
                _schemas.Add(stored);
            }

            if (ids is null)
            {
                _subjects[subject] = ids = [];
            }

            ids.Add(stored.Id);
            return (stored.Id, null);
        }
    }

    /// <summary>The reasons the schema cannot be registered after the version (-1: latest), or why the check cannot be made.</summary>
    public (IReadOnlyList<string> Problems, RegistryError? Error) Check(string subject, int version, SchemaRequest request)
    {
        lock (_lock)
        {
            var (_, resolved, error) = At(subject, version);
            if (error is not null)
            {
                return ([], error);
            }

            return Validate(request) is { } invalid ? ([], invalid) : (Incompatibilities(subject, request, resolved), null);
        }
    }

    public string? CompatibilityConfig(string? subject)
    {
        lock (_lock)
        {
            return subject is null ? _compatibility : _subjectCompatibility.GetValueOrDefault(subject);
        }
    }

    public void SetCompatibility(string? subject, string level)
    {
        lock (_lock)
        {
            if (subject is null)
            {
                _compatibility = level;
            }
            else
            {
                _subjectCompatibility[subject] = level;
            }
        }
    }

    private string CompatibilityOf(string subject) => _subjectCompatibility.GetValueOrDefault(subject) ?? _compatibility;

    private List<string> Incompatibilities(string subject, SchemaRequest request, int againstVersion)
    {
        var level = CompatibilityOf(subject);
        if (level == "NONE" || request.SchemaType != "PROTOBUF")
        {
            return [];
        }

        var ids = _subjects[subject];
        var transitive = level.EndsWith("_TRANSITIVE", StringComparison.Ordinal);
        var next = Parse(request.Schema)!;
        var problems = new List<string>();
        foreach (var id in transitive ? ids.Take(againstVersion) : [ids[againstVersion - 1]])
        {
            var previous = Parse(_schemas[id - 1].Request.Schema)!;
            if (level.StartsWith("BACKWARD", StringComparison.Ordinal) || level.StartsWith("FULL", StringComparison.Ordinal))
            {
                problems.AddRange(ProtobufBackwardCompatibility.Incompatibilities(previous, next));
            }

            if (level.StartsWith("FORWARD", StringComparison.Ordinal) || level.StartsWith("FULL", StringComparison.Ordinal))
            {
                problems.AddRange(ProtobufBackwardCompatibility.Incompatibilities(next, previous));
            }
        }

        return [.. problems.Distinct()];
    }

    private RegistryError? Validate(SchemaRequest request)
    {
        if (request.SchemaType != "PROTOBUF")
        {
            return new RegistryError(422, 42201, $"Invalid schema: the stand-in registry only holds PROTOBUF schemas, not {request.SchemaType}.");
        }

        if (Parse(request.Schema) is null)
        {
            return new RegistryError(422, 42201, "Invalid schema: the stand-in registry reads protobuf schemas in their serialized form (base64 FileDescriptorProto) only.");
        }

        foreach (var reference in request.References)
        {
            if (!_subjects.TryGetValue(reference.Subject, out var ids) || reference.Version < 1 || reference.Version > ids.Count)
            {
                return new RegistryError(422, 42201, $"Invalid schema: reference '{reference.Name}' names subject '{reference.Subject}' version {reference.Version}, which does not exist.");
            }
        }

        return null;
    }

    internal static FileDescriptorProto? Parse(string schema)
    {
        try
        {
            return FileDescriptorProto.Parser.ParseFrom(Convert.FromBase64String(schema));
        }
        catch (Exception e) when (e is FormatException or InvalidProtocolBufferException)
        {
            return null;
        }
    }
}
