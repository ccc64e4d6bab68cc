using BenchmarkDotNet.Running;

// Run all: dotnet run -c Release --project tests/Qkd.Benchmarks -- --filter '*'
// One group: dotnet run -c Release --project tests/Qkd.Benchmarks -- --filter '*Cascade*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
