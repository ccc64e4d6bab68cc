using System.Runtime.CompilerServices;

// The sift kernels and the value packing are internal; the tests compare them with the per-detection reference loops,
// and the benchmarks time both in the same run.
[assembly: InternalsVisibleTo("Qkd.Benchmarks")]
