namespace Qkd.ClassicalChannel;

/// <summary>Why an end refused a connection's handshake, carried in a <see cref="FrameType.Refused"/> notice.</summary>
public enum RefusalReason : byte
{
    /// <summary>The receiver's pad state is older than the sender's (its pad indices were already used): it must stop.</summary>
    PadStateOlder = 1,
    /// <summary>The sender, never connected before, cannot authenticate the receiver's first frame: the pre-shared secrets differ.</summary>
    SecretMismatch = 2,
    /// <summary>The sender cannot authenticate the receiver's frame (it names key or pad the sender does not have); its position follows.</summary>
    CannotAuthenticate = 3,
}
