using System.Runtime.CompilerServices;

// The replay tests compare the software CRC-32C against the hardware instruction.
[assembly: InternalsVisibleTo("Qkd.Acquisition.Tests")]
