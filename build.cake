// Mesh build script (Cake). Targets: Build, Train, Test, Demo, Bench, MicroBench. Run through ./build.sh --target=<name>.
var target = Argument("target", "Build");
var configuration = Argument("configuration", "Release");
var duration = Argument("duration", 45);
var rate = Argument("rate", 200);
var dashboard = HasArgument("dashboard");

var solution = File("./Mesh.sln");
var mesh = $"./tools/Mesh.Cli/bin/{configuration}/net10.0/mesh.dll";
var models = "./.mesh/models";

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
    .Description("Train the two demo iris models and export them to ONNX model folders in .mesh/models.")
    .IsDependentOn("Build")
    .Does(() =>
{
    DotNetExecute(mesh, $"train --data data/iris.csv --output {models}");
});

Task("Test")
    .Description("Every test: unit, integration (embedded broker or KAFKA_BOOTSTRAP_SERVERS) and end to end.")
    .IsDependentOn("Build")
    .Does(() =>
{
    var results = Directory("./artifacts/test-results");
    EnsureDirectoryExists(results);
    CleanDirectory(results);
    try
    {
        DotNetTest(solution, new DotNetTestSettings
        {
            Configuration = configuration,
            NoBuild = true,
            Loggers = { "console;verbosity=normal", "trx" },
            ResultsDirectory = results,
            // One test project at a time: several of them start a whole mesh (or two model hosts), and on two
            // cores two such stacks starting at once starve each other past their start-up budgets.
            ArgumentCustomization = args => args.Append("-m:1"),
        });
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
