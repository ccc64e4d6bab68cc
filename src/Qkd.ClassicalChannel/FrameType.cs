namespace Qkd.ClassicalChannel;

/// <summary>Kinds of authenticated frame on the classical channel's TCP connection.</summary>
public enum FrameType : byte
{
    /// <summary>Connector opens a connection: its session id (zero when new) and a fresh connector nonce.</summary>
    Hello = 1,
    /// <summary>Listener answers: its session id, the connector's nonce echoed, a fresh listener nonce, its last received sequence.</summary>
    Welcome = 2,
    /// <summary>Connector confirms (both nonces) with its last received sequence; both then resend what the other lacks.</summary>
    Resume = 3,
    /// <summary>One message of the distillers, with its sequence number.</summary>
    Data = 4,
    /// <summary>Acknowledgement only (every frame also carries one).</summary>
    Ack = 5,
    /// <summary>End of session (Complete): sequenced like data, after the last message.</summary>
    End = 6,
    /// <summary>
    /// A handshake refused, with the reason (<see cref="RefusalReason"/>) and the sender's <see cref="PadPosition"/>.
    /// Authenticated with the pre-shared key and the sender's notice reserve, so a peer whose state was lost (whose
    /// key epoch and replenished pad are gone) can still check it; bound to the connection's nonces.
    /// </summary>
    Refused = 7,
}
