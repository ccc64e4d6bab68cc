using System.Runtime.CompilerServices;

// The replay tests compare the software CRC-32C against the hardware instruction.
[assembly: InternalsVisibleTo("Qkd.Acquisition.Tests")]
// The benchmarks run the former reader (tests/Shared/Reference) as their baseline; it reads the layout constants.
[assembly: InternalsVisibleTo("Qkd.Benchmarks")]
