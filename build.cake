// Mesh build script (Cake). Targets: Prerequisites, Build, Train, Test, Demo, Bench, MicroBench. Run through ./build.sh --target=<name>.
var target = Argument("target", "Build");
var configuration = Argument("configuration", "Release");
var duration = Argument("duration", 45);
var rate = Argument("rate", 200);
var dashboard = HasArgument("dashboard");

var solution = File("./Mesh.sln");
var mesh = $"./tools/Mesh.Cli/bin/{configuration}/net10.0/mesh.dll";
var models = "./.mesh/models";

// What the tests need beyond the .NET SDK, on Debian. The one list: .ci/run installs nothing itself, it runs the
// Test target, which depends on Prerequisites.
var debianPackages = new[]
{
    "redis-server",            // bandit state and the sink's join state (a real Redis, started by the tests)
    "chromium",                // the experiment page, driven headless by Playwright
    "python3-confluent-kafka", // data teams outside .NET: the Python example and the Schema Registry interop test
    "python3-protobuf",
    "python3-grpcio",          // a non-grpc-dotnet client of the model host's Open Inference Protocol API, and a foreign OIP server
    "python3-sklearn",         // the foreign OIP server's model (the router's output contract tests)
    "protobuf-compiler",       // protoc, for the Python classes
    "protobuf-compiler-grpc",  // grpc_python_plugin
    "libprotobuf-dev",         // google/protobuf/*.proto (timestamp.proto): Debian's protoc ships none of them
    "python3-requests",        // confluent_kafka.schema_registry imports it (only a Suggests of python3-confluent-kafka)
};

Task("Prerequisites")
    .Description("Install the Debian packages the tests need (as root, after apt-get update), or say exactly what to run.")
    .Does(() =>
{
    if (!IsRunningOnLinux() || !System.IO.File.Exists("/usr/bin/dpkg-query"))
    {
        Warning($"Not a Debian machine: install the equivalents of {string.Join(", ", debianPackages)} yourself.");
        return;
    }

    var missing = debianPackages.Where(package => !DebianPackageInstalled(package)).ToArray();
    if (missing.Length > 0)
    {
        var install = $"apt-get install -y --no-install-recommends {string.Join(" ", missing)}";
        if (RunningAsRoot())
        {
            Information($"Installing {string.Join(", ", missing)} (apt-get update first)");
            RunOrThrow("apt-get", "update -qq");
            RunOrThrow("apt-get", "install -y -qq --no-install-recommends " + string.Join(" ", missing));
        }
        else
        {
            throw new Exception($"The tests need Debian packages that are missing: {string.Join(", ", missing)}. Run as root: apt-get update && {install}");
        }
    }

    // kubectl (with its built-in kustomize) renders the Kubernetes manifests the tests check. Debian's own
    // kubernetes-client is far too old (1.20); it comes from Kubernetes' or Google Cloud's packages.
    if (StartProcess("sh", new ProcessSettings { Arguments = "-c \"command -v kubectl >/dev/null\"" }) != 0)
    {
        throw new Exception("The tests need kubectl 1.27 or newer (with kustomize) on PATH: see https://kubernetes.io/docs/tasks/tools/install-kubectl-linux/");
    }
});

bool DebianPackageInstalled(string package)
{
    var exitCode = StartProcess("dpkg-query", new ProcessSettings
    {
        Arguments = $"-W -f=${{Status}} {package}",
        RedirectStandardOutput = true,
        RedirectStandardError = true,
    }, out var output);
    return exitCode == 0 && string.Join("", output).Contains("install ok installed");
}

bool RunningAsRoot()
{
    StartProcess("id", new ProcessSettings { Arguments = "-u", RedirectStandardOutput = true }, out var output);
    return string.Join("", output).Trim() == "0";
}

void RunOrThrow(string tool, string arguments)
{
    var settings = new ProcessSettings { Arguments = arguments, EnvironmentVariables = new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" } };
    var exitCode = StartProcess(tool, settings);
    if (exitCode != 0)
    {
        throw new Exception($"{tool} {arguments} failed (exit code {exitCode}).");
    }
}

Task("Clean")
    .Does(() =>
{
    DotNetClean(solution, new DotNetCleanSettings { Configuration = configuration });
});

Task("Build")
    .Does(() =>
{
    DotNetBuild(solution, new DotNetBuildSettings { Configuration = configuration });
});

Task("Train")
    .Description("Train the demo iris models (and the shadow candidate) and export them to ONNX model folders in .mesh/models.")
    .IsDependentOn("Build")
    .Does(() =>
{
    DotNetExecute(mesh, $"train --data data/iris.csv --output {models} --with-candidate");
});

Task("Test")
    .Description("Every test: unit, integration (embedded broker or KAFKA_BOOTSTRAP_SERVERS) and end to end.")
    .IsDependentOn("Prerequisites")
    .IsDependentOn("Build")
    .Does(() =>
{
    var results = Directory("./artifacts/test-results");
    EnsureDirectoryExists(results);
    CleanDirectory(results);
    // One test project at a time: several of them start a whole mesh (or two model hosts), and on two cores two
    // such stacks starting at once starve each other past their start-up budgets. Each project writes its own TRX
    // file (the logger's default name is a timestamp, so projects ending in the same second overwrote each other and
    // the closing line undercounted), and a failing project does not stop the ones after it.
    var failedProjects = new List<string>();
    try
    {
        foreach (var project in GetFiles("./tests/*/*.Tests.csproj").OrderBy(p => p.FullPath))
        {
            var name = project.GetFilenameWithoutExtension().ToString();
            try
            {
                DotNetTest(project.FullPath, new DotNetTestSettings
                {
                    Configuration = configuration,
                    NoBuild = true,
                    Loggers = { "console;verbosity=normal", $"trx;LogFileName={name}.trx" },
                    ResultsDirectory = results,
                    // A test that hangs is stopped and reported (with a dump of where it hung) instead of holding CI to its limit.
                    ArgumentCustomization = args => args.Append("--blame-hang-timeout").Append("10m"),
                });
            }
            catch (Exception e)
            {
                Error($"{name}: {e.Message}");
                failedProjects.Add(name);
            }
        }

        if (failedProjects.Count > 0)
        {
            throw new Exception($"Tests failed in: {string.Join(", ", failedProjects)}");
        }
    }
    finally
    {
        // One closing line over every test project, from their TRX files.
        int passed = 0, failed = 0, skipped = 0;
        foreach (var trx in GetFiles($"{results}/*.trx"))
        {
            var counters = System.Xml.Linq.XDocument.Load(trx.FullPath).Descendants().First(e => e.Name.LocalName == "Counters");
            passed += (int)counters.Attribute("passed");
            failed += (int)counters.Attribute("failed") + (int)counters.Attribute("error") + (int)counters.Attribute("timeout") + (int)counters.Attribute("aborted");
            skipped += (int)counters.Attribute("notExecuted");
        }

        // Plain text (no colour codes): CI reads this line.
        Console.WriteLine($"Tests: {passed} passed, {failed} failed, {skipped} skipped");
    }
});

Task("Demo")
    .Description("Start the broker and the five services through the Aspire AppHost, stream iris through an A/B test, print the per-arm table.")
    .IsDependentOn("Train")
    .Does(() =>
{
    var args = $"demo --duration {duration} --rate {rate} --configuration {configuration}" + (dashboard ? " --dashboard" : "");
    var exitCode = StartProcess("dotnet", new ProcessSettings { Arguments = $"{mesh} {args}" });
    if (exitCode != 0)
    {
        throw new Exception($"The demo failed (exit code {exitCode}).");
    }
});

Task("Bench")
    .Description("The mesh against its physical limit: fused baseline, mesh, per-message mesh (mesh bench); writes artifacts/bench and docs/benchmarks.md.")
    .IsDependentOn("Build")
    .Does(() =>
{
    var exitCode = StartProcess("dotnet", new ProcessSettings { Arguments = $"{mesh} bench --configuration {configuration} --docs docs/benchmarks.md" });
    if (exitCode != 0)
    {
        throw new Exception($"The benchmark failed (exit code {exitCode}).");
    }
});

Task("MicroBench")
    .Description("BenchmarkDotNet micro-benchmarks of the hot paths.")
    .Does(() =>
{
    DotNetRun("./tools/Mesh.Benchmarks/Mesh.Benchmarks.csproj", new DotNetRunSettings { Configuration = "Release", ArgumentCustomization = args => args.Append("-- --inProcess --job short --filter *") });
});

RunTarget(target);
