using BenchmarkDotNet.Running;

// --alternate-wire-format [rounds]: the wire format's read cost in alternating rounds (see AlternatingWireFormatRounds).
if (args is ["--alternate-wire-format", ..])
{
    return Mesh.Benchmarks.AlternatingWireFormatRounds.Run(args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 300, Console.Out);
}

// Run with --inProcess (build.sh target MicroBench does): no generated project to restore and build.
BenchmarkSwitcher.FromAssembly(typeof(Mesh.Benchmarks.ContractBenchmarks).Assembly).Run(args);
return 0;
