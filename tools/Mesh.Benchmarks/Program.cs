using BenchmarkDotNet.Running;

// Run with --inProcess (build.sh target MicroBench does): no generated project to restore and build.
BenchmarkSwitcher.FromAssembly(typeof(Mesh.Benchmarks.ContractBenchmarks).Assembly).Run(args);
