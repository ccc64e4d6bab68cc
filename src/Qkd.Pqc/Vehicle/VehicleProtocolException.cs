namespace Qkd.Pqc.Vehicle;

/// <summary>The vehicle channel refused the peer or a frame: a bad signature, an unknown vehicle or seed, a forged or replayed frame, a malformed message. Never carries key material.</summary>
public sealed class VehicleProtocolException(string message, Exception? inner = null) : Exception(message, inner);
