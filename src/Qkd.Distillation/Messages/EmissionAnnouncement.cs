using Qkd.Distillation.Protocol;

namespace Qkd.Distillation.Messages;

/// <summary>
/// Alice → Bob, the first message of a session: the emission she is about to send. Bob learns its length here rather
/// than from his tagger's stream ending (a real tagger streams for ever: dark counts never stop), and checks the pulse
/// rate and sync divider against his own link settings before he starts his tagger. Pulses 0 .. PilotPulses - 1 are the
/// pilot: Alice discloses their basis and bit on Bob's request (<see cref="PilotDisclosure"/>) so that he can find which
/// of her pulses his tags belong to (frame synchronisation); they are never key. Wire: pulses (varint), pulse rate in
/// pulses per second (IEEE 754 double, little-endian), pulses per sync tag (varint), pilot pulses (varint).
/// </summary>
/// <param name="Pulses">Pulses 0 .. Pulses - 1 are emitted.</param>
/// <param name="PulseRateHz">Pulses per second.</param>
/// <param name="PulsesPerSync">One sync pulse every this many pulses, the first at pulse 0.</param>
/// <param name="PilotPulses">The pilot's length, less than <paramref name="Pulses"/> and at most <see cref="MaximumPilotPulses"/>; 0: no pilot.</param>
public readonly record struct EmissionAnnouncement(long Pulses, double PulseRateHz, int PulsesPerSync, long PilotPulses = 0)
{
    /// <summary>The longest pilot (its disclosure is a quarter byte per pulse: 4 MiB).</summary>
    public const long MaximumPilotPulses = 1 << 24;

    public const MessageType Type = MessageType.EmissionAnnouncement;

    /// <summary>The most pulses one emission may announce (a 1e13-pulse run is hours at 1 GHz).</summary>
    public const long MaximumPulses = 10_000_000_000_000;

    /// <summary>Encodes the message into <paramref name="writer"/> (replacing what it held) and returns the bytes.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A field is out of the range <see cref="Read"/> accepts.</exception>
    public ReadOnlyMemory<byte> Write(ProtocolWriter writer)
    {
        if (Check() is string problem) throw new ArgumentOutOfRangeException(nameof(Pulses), problem);
        writer.Begin(Type);
        writer.WriteVarInt64(Pulses);
        writer.WriteDouble(PulseRateHz);
        writer.WriteVarInt64(PulsesPerSync);
        writer.WriteVarInt64(PilotPulses);
        return writer.Message;
    }

    /// <exception cref="ProtocolException">Wrong type, truncated, trailing bytes, or a field out of range (no pulses,
    /// more than <see cref="MaximumPulses"/>, a pulse rate that is not a positive finite number, a divider of 0, a pilot
    /// too long or not shorter than the emission).</exception>
    public static EmissionAnnouncement Read(ReadOnlySpan<byte> message)
    {
        var reader = new ProtocolReader(message, Type);
        long pulses = reader.ReadVarInt64("pulses", MaximumPulses);
        double rate = reader.ReadDouble("pulse rate");
        int perSync = (int)reader.ReadVarInt64("pulses per sync", int.MaxValue);
        long pilot = reader.ReadVarInt64("pilot pulses", MaximumPilotPulses);
        reader.EnsureEnd(Type);
        var announcement = new EmissionAnnouncement(pulses, rate, perSync, pilot);
        if (announcement.Check() is string problem) throw new ProtocolException($"Emission announcement: {problem}.");
        return announcement;
    }

    private string? Check()
    {
        if (Pulses < 1 || Pulses > MaximumPulses) return $"{Pulses} pulses is outside [1, {MaximumPulses}]";
        if (!(PulseRateHz > 0) || double.IsInfinity(PulseRateHz)) return $"the pulse rate {PulseRateHz} is not a positive finite number of pulses per second";
        if (PulsesPerSync < 1) return $"{PulsesPerSync} pulses per sync is less than 1";
        if (PilotPulses < 0 || PilotPulses > MaximumPilotPulses || (PilotPulses > 0 && PilotPulses >= Pulses))
            return $"a pilot of {PilotPulses} pulses is outside [0, {MaximumPilotPulses}] or not shorter than the emission of {Pulses}";
        return null;
    }
}
