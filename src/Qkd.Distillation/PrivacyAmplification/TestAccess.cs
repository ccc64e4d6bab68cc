using System.Runtime.CompilerServices;

// The GF(2^64) arithmetic, the FFT kernels (vector and scalar) and the software carry-less product are internal; the
// test project checks each path against the schoolbook reference, including the ones this machine would not pick.
[assembly: InternalsVisibleTo("Qkd.Distillation.Tests")]
