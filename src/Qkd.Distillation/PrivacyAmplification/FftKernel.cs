using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Qkd.Distillation.PrivacyAmplification;

/// <summary>
/// The instruction set the additive FFT runs on. All kernels compute identical bits; they differ only in speed
/// (Toeplitz hash of 10^7 bits to 5 x 10^6 on one Zen 4 core: AVX-512 about 540 Mbit/s, AVX2 about 190, portable
/// about 95).
/// </summary>
internal enum FftKernel
{
    /// <summary>One field element at a time (PCLMULQDQ, PMULL or the software product underneath).</summary>
    Portable,

    /// <summary>AVX2 with VPCLMULQDQ: four elements per instruction.</summary>
    Avx2,

    /// <summary>AVX-512 with VPCLMULQDQ: eight elements per instruction, two-source permutes and valignq.</summary>
    Avx512,
}

internal static class FftKernels
{
    /// <summary>The fastest kernel this machine supports.</summary>
    public static readonly FftKernel Best =
        IsSupported(FftKernel.Avx512) ? FftKernel.Avx512 : IsSupported(FftKernel.Avx2) ? FftKernel.Avx2 : FftKernel.Portable;

    /// <summary>Every kernel this machine can run (tests compare them all).</summary>
    public static IEnumerable<FftKernel> Supported => Enum.GetValues<FftKernel>().Where(IsSupported);

    public static bool IsSupported(FftKernel kernel) => kernel switch
    {
        FftKernel.Portable => true,
        FftKernel.Avx2 => Pclmulqdq.V256.IsSupported && Avx2.IsSupported && Vector256.IsHardwareAccelerated,
        FftKernel.Avx512 => Pclmulqdq.V512.IsSupported && Avx512F.IsSupported && Vector512.IsHardwareAccelerated,
        _ => false,
    };
}
