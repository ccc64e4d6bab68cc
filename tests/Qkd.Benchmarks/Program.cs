using BenchmarkDotNet.Running;
using Qkd.Benchmarks;

// Run all: dotnet run -c Release --project tests/Qkd.Benchmarks -- --filter '*'
// One group: dotnet run -c Release --project tests/Qkd.Benchmarks -- --filter '*Cascade*'
// The simulation behind LdpcCodeFamily.DecodableEfficiencyTable: dotnet run -c Release --project tests/Qkd.Benchmarks -- ldpc-table
// Cascade on a replay-sized block by thread CPU time (run it from the old and the new build in turns): dotnet run -c Release --project tests/Qkd.Benchmarks -- cascade-cpu
// The tag path's kernels by thread CPU time, baseline and rewrite in turns: dotnet run -c Release --project tests/Qkd.Benchmarks -- tag-path-cpu
if (args.Length > 0 && args[0] == LdpcEfficiencyTableTool.Command) return LdpcEfficiencyTableTool.Run(args);
if (args.Length > 0 && args[0] == TagPathCpuTool.Command) return TagPathCpuTool.Run(args);
if (args.Length > 0 && args[0] == CascadeCpuTool.Command) return CascadeCpuTool.Run(args);
if (args.Length > 0 && args[0] == LdpcCodeSearchTool.Command) return LdpcCodeSearchTool.Run(args);
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
return 0;
