namespace Qkd.Distillation.Messages;

/// <summary>
/// The version of the distillation protocol: the messages of <see cref="Protocol.MessageType"/> and their encodings. Two nodes
/// distil together only when they speak the same version; the session hello carries it, and a node refuses a peer
/// with another one, naming both, instead of failing somewhere inside a block.
/// </summary>
public static class DistillationProtocol
{
    /// <summary>
    /// 1: the Toeplitz matrix expanded by AES-256-CTR from a 32-byte seed. 2: the full n + l − 1 seed bits in
    /// <see cref="AmplificationSeed"/> parts (two-universal privacy amplification). 3: a session opens with
    /// <see cref="EmissionAnnouncement"/> and <see cref="ReceiverReady"/> (Bob learns the emission's length over the
    /// channel and Alice emits only once his tagger streams), and Alice discloses a pilot of pulses on Bob's
    /// <see cref="PilotRequest"/> (<see cref="PilotDisclosure"/>) for frame synchronisation. 4: a block may be
    /// corrected by rate-adaptive LDPC (<see cref="LdpcStart"/>, <see cref="LdpcSyndromes"/>, <see cref="LdpcRevealRequest"/>,
    /// <see cref="LdpcReveal"/>; the code family of <c>LdpcCodeFamily</c> is part of this version), and Bob times the
    /// channel with <see cref="RoundTripProbe"/>. 5: LDPC frames are planned from a new
    /// <c>LdpcCodeFamily.DecodableEfficiencyTable</c> (regenerated with the tanh-product decoder), so a version-4 end
    /// would size its syndromes differently.
    /// </summary>
    public const ushort Version = 5;
}
