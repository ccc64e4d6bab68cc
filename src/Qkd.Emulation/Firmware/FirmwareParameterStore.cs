using Qkd.Protocol;
using Qkd.Protocol.Messages;

namespace Qkd.Emulation.Firmware;

/// <summary>
/// The parameters of one emulated device, straight from <see cref="ParameterCatalog"/>: every parameter of the class
/// with its default, one value per channel for per-channel parameters. The catalog is the single source of ranges, so
/// the firmware enforces exactly what the host drivers check and firmware-protocols/ documents. Not thread-safe: the
/// owning firmware guards it with its device lock.
/// </summary>
public sealed class FirmwareParameterStore
{
    private readonly Dictionary<ParameterId, long[]> _values = new();
    private readonly Dictionary<ParameterId, ParameterDefinition> _definitions = new();

    public FirmwareParameterStore(DeviceClass deviceClass, int channelCount)
    {
        if (channelCount < 1 || channelCount > 64)
            throw new ArgumentOutOfRangeException(nameof(channelCount), channelCount, "A device has 1..64 channels (the catalog's channel count range).");
        DeviceClass = deviceClass;
        ChannelCount = channelCount;
        foreach (ParameterDefinition definition in ParameterCatalog.For(deviceClass))
        {
            _definitions[definition.Id] = definition;
            var values = new long[definition.PerChannel ? channelCount : 1];
            Array.Fill(values, definition.Id == ParameterId.ChannelCount ? channelCount : definition.Default);
            _values[definition.Id] = values;
        }
    }

    public DeviceClass DeviceClass { get; }

    public int ChannelCount { get; }

    public IEnumerable<ParameterDefinition> Definitions => _definitions.Values;

    /// <summary>The definition, or null when the id is not a parameter of this class.</summary>
    public ParameterDefinition? Find(ParameterId id) => _definitions.GetValueOrDefault(id);

    /// <summary>
    /// Null when <paramref name="channel"/> addresses the parameter, else the nack text naming parameter and channel
    /// (per-channel: channel below the channel count; global: channel 0).
    /// </summary>
    public string? CheckChannel(ParameterDefinition definition, byte channel)
    {
        if (definition.PerChannel)
            return channel < ChannelCount ? null : $"{definition.Name}: channel {channel} is outside 0..{ChannelCount - 1} (this device has {ChannelCount} channels)";
        return channel == 0 ? null : $"{definition.Name} is not per channel: channel {channel} given, 0 expected";
    }

    /// <summary>The stored value (channel already checked; a global parameter ignores the channel).</summary>
    public long Get(ParameterId id, int channel = 0)
    {
        long[] values = _values[id];
        return values.Length == 1 ? values[0] : values[channel];
    }

    /// <summary>Stores a value without range checks (the firmware's own updates, e.g. bias dropped by the interlock).</summary>
    public void Set(ParameterId id, int channel, long value)
    {
        long[] values = _values[id];
        values[values.Length == 1 ? 0 : channel] = value;
    }

    /// <summary>All channels' values of a parameter (a live view: the firmware reads its settings from it).</summary>
    public ReadOnlySpan<long> All(ParameterId id) => _values[id];

    /// <summary>ResetSettings: every writable parameter back to its catalog default.</summary>
    public void ResetWritable()
    {
        foreach (ParameterDefinition definition in _definitions.Values)
            if (definition.Writable)
                Array.Fill(_values[definition.Id], definition.Default);
    }
}
