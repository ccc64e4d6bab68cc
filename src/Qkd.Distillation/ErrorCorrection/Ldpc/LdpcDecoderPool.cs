using System.Collections.Concurrent;

namespace Qkd.Distillation.ErrorCorrection.Ldpc;

/// <summary>
/// Decoders kept per code between frames and blocks: a decoder's buffers (a few MB at the largest circulant) are
/// allocated once, not per frame. A decoder holds the last frame's posteriors until reused; they are soft values
/// of Bob's bits, cleared when returned.
/// </summary>
public static class LdpcDecoderPool
{
    private static readonly ConcurrentDictionary<QuasiCyclicCode, ConcurrentBag<LayeredDecoder>> Pools = new();

    public static LayeredDecoder Rent(QuasiCyclicCode code) =>
        Pools.GetOrAdd(code, _ => []).TryTake(out var decoder) ? decoder : new LayeredDecoder(code);

    public static void Return(LayeredDecoder decoder)
    {
        decoder.Clear();
        Pools.GetOrAdd(decoder.Code, _ => []).Add(decoder);
    }
}
