namespace Qkd.Emulation.Buses.Chips;

/// <summary>The AD5328's software LDAC mode (control word D14:D13 = 01).</summary>
public enum Ad5328LdacMode
{
    /// <summary>"LDAC low": every DAC register follows its input register.</summary>
    Continuous = 0,
    /// <summary>"LDAC high": DAC registers hold until the LDAC pin or a single-update word.</summary>
    Latched = 1,
}
