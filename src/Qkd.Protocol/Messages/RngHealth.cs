using System.Buffers.Binary;

namespace Qkd.Protocol.Messages;

/// <summary>A random number generator's own health flags (RngHealth payload, firmware-protocols/random-number-generator.md).</summary>
[Flags]
public enum RngHealthFlags : uint
{
    None = 0,

    /// <summary>The start-up test (after power-up, and after a source fault cleared) passed.</summary>
    StartupTestPassed = 1 << 0,

    /// <summary>The device's own continuous test (Repetition Count or Adaptive Proportion) failed and it has not recovered: no entropy is sent.</summary>
    ContinuousTestFailure = 1 << 1,

    /// <summary>The noise source itself failed (e.g. laser or detector out of its operating range): no entropy is sent.</summary>
    SourceFault = 1 << 2,
}

/// <summary>
/// The RngGetHealth response and the RngHealthChanged event (40 bytes): the device's health flags and its own test
/// counters since power-up.
/// </summary>
/// <param name="SamplesTested">Noise-source samples (bits) the device's continuous tests have seen.</param>
/// <param name="RepetitionCountFailures">Times its Repetition Count Test tripped.</param>
/// <param name="AdaptiveProportionFailures">Times its Adaptive Proportion Test tripped.</param>
/// <param name="BytesWithheld">Bytes produced while a test had failed (or during recovery) and never sent.</param>
/// <param name="SourceFaults">Times the noise source failed.</param>
public readonly record struct RngHealthReport(
    RngHealthFlags Flags, ulong SamplesTested, ulong RepetitionCountFailures, ulong AdaptiveProportionFailures, ulong BytesWithheld,
    uint SourceFaults)
{
    public const int Length = 4 + 4 * 8 + 4;

    /// <summary>The flags that mean the device sends no entropy.</summary>
    public const RngHealthFlags FailureFlags = RngHealthFlags.ContinuousTestFailure | RngHealthFlags.SourceFault;

    /// <summary>Whether the device reports a failure (continuous test or source), i.e. withholds its output.</summary>
    public bool IsFailing => (Flags & FailureFlags) != 0;

    public byte[] ToPayload()
    {
        var payload = new byte[Length];
        BinaryPrimitives.WriteUInt32LittleEndian(payload, (uint)Flags);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(4), SamplesTested);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(12), RepetitionCountFailures);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(20), AdaptiveProportionFailures);
        BinaryPrimitives.WriteUInt64LittleEndian(payload.AsSpan(28), BytesWithheld);
        BinaryPrimitives.WriteUInt32LittleEndian(payload.AsSpan(36), SourceFaults);
        return payload;
    }

    /// <summary>Reads the payload; flag bits this host does not know are kept (framing.md section 10: a host ignores them).</summary>
    public static RngHealthReport Read(ReadOnlySpan<byte> payload)
    {
        PayloadFormatException.Require(payload.Length == Length, $"RngHealth: {payload.Length} bytes, {Length} expected.");
        return new RngHealthReport((RngHealthFlags)BinaryPrimitives.ReadUInt32LittleEndian(payload),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[4..]), BinaryPrimitives.ReadUInt64LittleEndian(payload[12..]),
            BinaryPrimitives.ReadUInt64LittleEndian(payload[20..]), BinaryPrimitives.ReadUInt64LittleEndian(payload[28..]),
            BinaryPrimitives.ReadUInt32LittleEndian(payload[36..]));
    }
}
