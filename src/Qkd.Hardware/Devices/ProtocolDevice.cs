using Qkd.Protocol;
using Qkd.Protocol.Messages;
using Qkd.Protocol.Transport;

namespace Qkd.Hardware.Devices;

/// <summary>
/// The part every driver over the wire protocol shares: connecting through an <see cref="IDeviceConnector"/>, checking
/// the identity, parameters with host-side range checks, status, events, and reconnecting to the same device (by serial
/// number) with the settings re-applied. Subclasses add their class's messages.
/// </summary>
public abstract class ProtocolDevice : IDevice
{
    private readonly IDeviceConnector _connector;
    private readonly DeviceConnectionOptions _options;
    private readonly Lock _stateLock = new();
    // Settings the host wrote, in order, so that a replugged device (back at its defaults) gets them again.
    private readonly Dictionary<(ParameterId Id, byte Channel), long> _settings = new();
    private readonly List<(ParameterId Id, byte Channel)> _settingsOrder = new();
    private DeviceConnection? _connection;
    private long _reconnects;
    private long _disconnects;

    protected ProtocolDevice(IDeviceConnector connector, DeviceClass deviceClass, DeviceConnectionOptions? options)
    {
        ArgumentNullException.ThrowIfNull(connector);
        _connector = connector;
        _options = options ?? new DeviceConnectionOptions();
        _options.Validate();
        DeviceClass = deviceClass;
        Name = $"{deviceClass.Describe()} ({connector.Description})";
    }

    public string Name { get; private set; }

    public DeviceClass DeviceClass { get; }

    public DeviceIdentity? Identity { get; private set; }

    public ConnectionState State { get; private set; } = ConnectionState.Closed;

    public long Reconnects => Interlocked.Read(ref _reconnects);

    /// <summary>Times the device went away.</summary>
    public long Disconnects => Interlocked.Read(ref _disconnects);

    public event Action<DeviceDisconnectedException>? Disconnected;

    public event Action? Reconnected;

    public event Action<DeviceEvent>? EventReceived;

    /// <summary>The live connection; throws when there is none.</summary>
    protected DeviceConnection Connection =>
        _connection is { IsConnected: true } c ? c : throw new DeviceDisconnectedException(Name, "use the device", null);

    public virtual IReadOnlyDictionary<string, long> Counters
    {
        get
        {
            var counters = new Dictionary<string, long>
            {
                ["disconnects"] = Disconnects,
                ["reconnects"] = Reconnects,
            };
            if (_connection is { } c)
            {
                foreach (var (k, v) in c.Counters.ToDictionary()) counters[k] = v;
                foreach (var (k, v) in c.DecoderCounters.ToDictionary()) counters["rx." + k] = v;
            }
            return counters;
        }
    }

    public void Connect()
    {
        lock (_stateLock)
        {
            if (State == ConnectionState.Connected && _connection is { IsConnected: true }) return;
            Open(expectedSerial: null);
        }
    }

    public void Reconnect()
    {
        lock (_stateLock)
        {
            if (State == ConnectionState.Connected && _connection is { IsConnected: true }) return;
            Open(expectedSerial: Identity?.SerialNumber);
            Interlocked.Increment(ref _reconnects);
        }
        OnReconnected();
        Reconnected?.Invoke();
    }

    public DeviceStatus GetStatus() => DeviceStatus.Read(Connection.Request(MessageType.GetStatus, default, "read status"));

    public long GetParameter(ParameterId id, byte channel = 0)
    {
        var definition = Definition(id, channel, "read");
        byte[] reply = Connection.Request(MessageType.GetParameter, ParameterValue.AddressPayload(id, channel), $"read {Describe(definition, channel)}");
        return CheckedValue(reply, id, channel, $"read {Describe(definition, channel)}");
    }

    public long SetParameter(ParameterId id, byte channel, long value)
    {
        var definition = Definition(id, channel, "write");
        if (!definition.Writable)
            throw new ArgumentException($"{Name}: {definition.Name} is read-only.", nameof(id));
        if (!definition.Contains(value))
            throw new ArgumentOutOfRangeException(nameof(value), value, $"{Name}: {definition.OutOfRangeMessage(value, channel)}; nothing was sent.");
        string operation = $"set {Describe(definition, channel)} to {value} {definition.Unit}";
        long applied = CheckedValue(Connection.Request(MessageType.SetParameter, new ParameterValue(id, channel, value).ToPayload(), operation), id, channel, operation);
        lock (_settings)
        {
            if (!_settings.ContainsKey((id, channel))) _settingsOrder.Add((id, channel));
            _settings[(id, channel)] = value;
        }
        return applied;
    }

    /// <summary>Puts every writable parameter back to its default (and forgets the settings to re-apply).</summary>
    public void ResetSettings()
    {
        Connection.Request(MessageType.ResetSettings, default, "reset settings");
        lock (_settings)
        {
            _settings.Clear();
            _settingsOrder.Clear();
        }
    }

    /// <summary>Sends a Ping with <paramref name="data"/> and checks the echo (a link test).</summary>
    public void Ping(ReadOnlySpan<byte> data)
    {
        byte[] echo = Connection.Request(MessageType.Ping, data, "ping");
        if (!echo.AsSpan().SequenceEqual(data))
            throw new DeviceException(Name, "ping", $"the echo ({echo.Length} bytes) differs from what was sent ({data.Length} bytes)");
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (!disposing) return;
        lock (_stateLock)
        {
            _connection?.Dispose();
            _connection = null;
            State = ConnectionState.Closed;
        }
    }

    /// <summary>Where this device's stream frames go, on every connection from its first byte (null: the device does not stream to the host).</summary>
    protected virtual IStreamReceiver? StreamReceiver => null;

    /// <summary>Called after a reconnect completed (settings re-applied): restart streams here.</summary>
    protected virtual void OnReconnected()
    {
    }

    /// <summary>Called on the reader thread when the device went away.</summary>
    protected virtual void OnDisconnected(DeviceDisconnectedException cause)
    {
    }

    private void Open(string? expectedSerial)
    {
        _connection?.Dispose();
        _connection = null;
        var transport = _connector.Connect();
        var connection = new DeviceConnection(transport, DeviceClass, Name, _options, StreamReceiver);
        try
        {
            var identity = DeviceIdentity.Read(connection.Request(MessageType.Identify, default, "identify"));
            if (identity.DeviceClass != DeviceClass)
                throw new DeviceException(Name, "identify", $"the device at {_connector.Description} is a {identity.DeviceClass.Describe()}, not a {DeviceClass.Describe()}");
            if (identity.ProtocolVersion != ProtocolConstants.Version)
                throw new DeviceException(Name, "identify", $"the device speaks protocol version {identity.ProtocolVersion}; this host speaks {ProtocolConstants.Version}");
            if (expectedSerial is not null && identity.SerialNumber != expectedSerial)
                throw new DeviceException(Name, "reconnect", $"a different device answered (SN {identity.SerialNumber}, expected {expectedSerial})");
            Identity = identity;
            Name = $"{DeviceClass.Describe()} {identity.SerialNumber} ({_connector.Description})";
            connection.SetDeviceName(Name);
            connection.EventReceived += e => EventReceived?.Invoke(e);
            connection.Disconnected += cause => HandleDisconnect(connection, cause);
            _connection = connection;
            State = ConnectionState.Connected;
            ReapplySettings();
        }
        catch
        {
            _connection = null;
            connection.Dispose();
            State = expectedSerial is null ? ConnectionState.Closed : ConnectionState.Disconnected;
            throw;
        }
    }

    private void ReapplySettings()
    {
        (ParameterId, byte, long)[] settings;
        lock (_settings) settings = _settingsOrder.Select(k => (k.Id, k.Channel, _settings[k])).ToArray();
        foreach (var (id, channel, value) in settings)
            Connection.Request(MessageType.SetParameter, new ParameterValue(id, channel, value).ToPayload(), $"re-apply {id} on channel {channel}");
    }

    private void HandleDisconnect(DeviceConnection connection, Exception cause)
    {
        if (!ReferenceEquals(connection, _connection)) return;
        State = ConnectionState.Disconnected;
        Interlocked.Increment(ref _disconnects);
        var disconnect = cause as DeviceDisconnectedException ?? new DeviceDisconnectedException(Name, "communicate", cause);
        OnDisconnected(disconnect);
        Disconnected?.Invoke(disconnect);
    }

    private ParameterDefinition Definition(ParameterId id, byte channel, string verb)
    {
        var definition = ParameterCatalog.Find(DeviceClass, id)
            ?? throw new ArgumentException($"{Name}: a {DeviceClass.Describe()} has no parameter {id} (0x{(ushort)id:X4}).", nameof(id));
        int channels = Identity?.ChannelCount ?? 64;
        if (definition.PerChannel ? channel >= channels : channel != 0)
            throw new ArgumentOutOfRangeException(nameof(channel), channel,
                $"{Name}: cannot {verb} {definition.Name} on channel {channel}: " + (definition.PerChannel ? $"the device has channels 0..{channels - 1}" : "it is not per channel (use 0)"));
        return definition;
    }

    private long CheckedValue(byte[] reply, ParameterId id, byte channel, string operation)
    {
        ParameterValue value;
        try { value = ParameterValue.Read(reply); }
        catch (PayloadFormatException e) { throw new DeviceException(Name, operation, e.Message); }
        if (value.Id != id || value.Channel != channel)
            throw new DeviceException(Name, operation, $"the reply is for {value.Id} channel {value.Channel}");
        return value.Value;
    }

    private static string Describe(ParameterDefinition definition, byte channel) =>
        definition.PerChannel ? $"{definition.Name} on channel {channel}" : definition.Name;
}
