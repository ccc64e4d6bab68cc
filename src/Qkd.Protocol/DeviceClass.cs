namespace Qkd.Protocol;

/// <summary>The device class a frame is addressed to or comes from (header byte 1).</summary>
public enum DeviceClass : byte
{
    /// <summary>Any device: only for requests every device answers (Identify, Ping), e.g. during discovery.</summary>
    Any = 0,
    SinglePhotonDetector = 1,
    LaserModulator = 2,
    TimeTagger = 3,

    /// <summary>A quantum random number generator: streams entropy blocks and reports its own health tests.</summary>
    RandomNumberGenerator = 4,
}

public static class DeviceClasses
{
    public static bool IsDefined(byte value) => value <= (byte)DeviceClass.RandomNumberGenerator;

    /// <summary>The name used in logs, errors and the udev symlinks.</summary>
    public static string Describe(this DeviceClass deviceClass) => deviceClass switch
    {
        DeviceClass.SinglePhotonDetector => "detector",
        DeviceClass.LaserModulator => "modulator",
        DeviceClass.TimeTagger => "time tagger",
        DeviceClass.RandomNumberGenerator => "random number generator",
        _ => "device",
    };
}
