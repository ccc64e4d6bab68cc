namespace Qkd.Core.Random;

/// <summary>
/// What one sample of an entropy source is, for the continuous health tests of NIST SP 800-90B section 4.4: the kind
/// fixes how a byte buffer is read as samples and which Adaptive Proportion Test window applies (section 4.4.2).
/// </summary>
public enum EntropySampleKind
{
    /// <summary>One bit per sample: byte k holds samples 8k .. 8k+7, least significant bit first. APT window 1024.</summary>
    Binary,

    /// <summary>One byte per sample (a non-binary source of up to 8 bits per sample). APT window 512.</summary>
    Byte,
}
