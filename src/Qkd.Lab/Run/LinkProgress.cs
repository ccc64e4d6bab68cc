namespace Qkd.Lab.Run;

/// <summary>A snapshot of a running link for the live progress line.</summary>
public sealed record LinkProgress(
    double LinkSeconds,
    double DurationSeconds,
    long PulsesSent,
    long Detections,
    long SiftedBits,
    double Qber,
    long SecretBits,
    double SecretKeyRateBitsPerSecond,
    int BlocksDone);
