namespace Qkd.Distillation.Protocol;

/// <summary>
/// Messages of the distillation protocol. Bob drives (he knows when detections arrive); Alice answers.
/// The first byte of every message is its type. Each message has a type of the same name in
/// <c>Qkd.Distillation.Messages</c> that writes it and reads it back, where its fields are laid out.
/// </summary>
public enum MessageType : byte
{
    /// <summary>Bob → Alice: pulse indices of a batch of detections and the basis Bob measured each in.</summary>
    SiftRequest = 1,
    /// <summary>Alice → Bob: which detections had matching bases, and the intensity class of each kept one.</summary>
    SiftResponse = 2,
    /// <summary>Bob → Alice: close a block of the first N Z and M X sifted records; carries Bob's X-basis bits.</summary>
    BlockStart = 3,
    /// <summary>Alice → Bob: X-basis error counts per intensity (parameter estimation) and the go/abort verdict.</summary>
    ParameterEstimate = 4,
    /// <summary>
    /// Bob → Alice: begin error correction of the whole block: block id, frame count (both ends split the block the
    /// same way, <c>BlockMath.FrameStart</c>), QBER estimate. Alice replies with CorrectionSeed: block id, frame count,
    /// then one 64-bit schedule seed per frame in frame order.
    /// </summary>
    CorrectionStart = 5,
    CorrectionSeed = 6,
    /// <summary>
    /// One Cascade round of every frame still correcting, in one message each way. Bob → Alice: block id, group
    /// count, then per group (frames strictly increasing) frame index, query count (at least one) and the queries
    /// (pass, start, length). Alice → Bob: block id, group count, then per group the frame index and its packed
    /// parities. Alice checks the whole round before answering any of it.
    /// </summary>
    ParityQueries = 7,
    ParityAnswers = 8,
    /// <summary>Bob → Alice: error correction done, with Bob's leakage count. Alice → Bob: hash keys and her tag.</summary>
    VerificationRequest = 9,
    VerificationTag = 10,
    /// <summary>
    /// Bob → Alice: tags matched or not. Alice → Bob: the key length and the whole Toeplitz seed for privacy
    /// amplification (or the abort), in as many AmplificationSeed messages as the seed's parts, back to back.
    /// </summary>
    VerificationResult = 11,
    AmplificationSeed = 12,
    /// <summary>Bob → Alice: the key is stored (or the block is discarded) at Bob.</summary>
    BlockDone = 13,
    /// <summary>Either side: end of session, with a reason.</summary>
    Goodbye = 14,
    /// <summary>
    /// Alice → Bob, first message of a session (protocol version 3): what she will emit (pulses, pulse rate, sync
    /// divider). Bob answers ReceiverReady once his tagger streams, and only then does Alice emit; or Goodbye when the
    /// emission does not match his link settings.
    /// </summary>
    EmissionAnnouncement = 15,
    /// <summary>Bob → Alice: his tagger is streaming; Alice may start the announced emission.</summary>
    ReceiverReady = 16,
    /// <summary>
    /// Bob → Alice, once he holds the detections the pilot can fall on: disclose the pilot. Alice answers
    /// PilotDisclosure with the basis and bit of every pilot pulse, once per session; those pulses are never key.
    /// </summary>
    PilotRequest = 17,
    PilotDisclosure = 18,
    /// <summary>
    /// Bob → Alice (protocol version 4): correct the whole block by rate-adaptive LDPC instead of Cascade: block id,
    /// frame count, QBER estimate (both ends plan every frame from them, <c>LdpcCodeFamily.Plan</c>). Alice answers
    /// LdpcSyndromes: block id, then per frame the syndrome of her codeword as a bit string.
    /// </summary>
    LdpcStart = 19,
    LdpcSyndromes = 20,
    /// <summary>
    /// A blind round for the frames the syndrome did not decode. Bob → Alice: block id, group count, then per group
    /// (frames strictly increasing) the frame index and how many more bits to reveal. Alice → Bob: block id, group
    /// count, then per group the frame index and the bits, in the frame plan's reveal order.
    /// </summary>
    LdpcRevealRequest = 21,
    LdpcReveal = 22,
    /// <summary>
    /// Bob → Alice, then echoed back unchanged at once: a sequence number. Bob times the exchange to measure the
    /// channel's round trip (Auto reconciliation).
    /// </summary>
    RoundTripProbe = 23,
    /// <summary>
    /// Bob → Alice, after error correction and before VerificationRequest, only on a link whose finite-key analysis
    /// bounds the vacuum events by the key-basis errors (the one-decoy analysis of Rusca et al. 2018): block id, then
    /// the Z errors correction found per intensity class. No reply. (Numbered apart from the core sequence.)
    /// </summary>
    KeyErrorCounts = 32,
}
