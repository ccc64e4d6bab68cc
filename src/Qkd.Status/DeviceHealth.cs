namespace Qkd.Status;

/// <summary>One device (or device-like source such as the QRNG) as the status page lists it.</summary>
/// <param name="Name">Its name as configured ("tagger", "detector", "QRNG").</param>
/// <param name="Kind">Its class in words ("time tagger", "single-photon detector").</param>
/// <param name="State">Its state in one or two words ("connected", "disconnected", "emulated").</param>
/// <param name="Healthy">False paints it red and, for the headline, explains why the link stopped.</param>
/// <param name="Detail">Anything more for the operator (firmware, serial number, the failed test); may be null.</param>
public sealed record DeviceHealth(string Name, string Kind, string State, bool Healthy, string? Detail = null);
