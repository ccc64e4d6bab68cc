using Qkd.Core;

namespace Qkd.Emulation;

/// <summary>
/// What happened at Bob's detectors in one light/dark click event, packed in a uint so that the alias tables can
/// hand it out directly: bits 0-7 the detectors that fired, bits 8-15 those among them that fired from a dark count
/// alone (no photon), bit 16 the basis Bob's active modulator was set to (always Z for a passive receiver).
/// </summary>
internal static class ClickOutcome
{
    public static uint Encode(uint firedMask, uint darkOnlyMask, Basis activeBasis) =>
        firedMask | (darkOnlyMask << 8) | ((uint)activeBasis << 16);

    public static uint Fired(uint outcome) => outcome & 0xFF;

    public static uint DarkOnly(uint outcome) => (outcome >> 8) & 0xFF;

    public static Basis ActiveBasis(uint outcome) => (Basis)((outcome >> 16) & 1);
}
