using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;

namespace Qkd.ClassicalChannel.Tests;

/// <summary>What the man in the middle does to the next data frame in a direction.</summary>
public enum Attack
{
    None,
    /// <summary>Flip one bit of the frame and forward it.</summary>
    FlipBit,
    /// <summary>Forward the frame, then inject a copy of the previous data frame of that direction.</summary>
    ReplayEarlier,
    /// <summary>Hold the frame and forward it after the next data frame.</summary>
    SwapWithNext,
    /// <summary>Cut the tag short (and fix the length prefix so the stream stays framed).</summary>
    Truncate,
    /// <summary>Forward the frame and send a copy back to its sender.</summary>
    Reflect,
}

/// <summary>
/// A TCP proxy between the connector (Alice) and the listener (Bob) that forwards whole frames and, when armed,
/// attacks the next data frame in one direction; it can also drop every connection.
/// </summary>
public sealed class ManInTheMiddleProxy : IAsyncDisposable
{
    private const int DataType = 4;
    private readonly TcpListener _listener;
    private readonly IPEndPoint _upstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Socket> _sockets = [];
    private readonly Attack[] _armed = new Attack[2];
    private readonly Task _accept;
    private int _attacksDone;
    private volatile bool _dropTowardsAlice;

    /// <summary>Every frame forwarded towards Bob, whole (length prefix included), in order.</summary>
    public System.Collections.Concurrent.ConcurrentQueue<byte[]> TowardsBob { get; } = new();

    /// <summary>While set, frames towards Alice are swallowed (Bob's last frames of a session never arrive).</summary>
    public bool DropTowardsAlice
    {
        get => _dropTowardsAlice;
        set => _dropTowardsAlice = value;
    }

    public ManInTheMiddleProxy(IPEndPoint upstream)
    {
        _upstream = upstream;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
        Endpoint = (IPEndPoint)_listener.LocalEndpoint;
        _accept = Task.Run(AcceptLoopAsync);
    }

    public IPEndPoint Endpoint { get; }

    public int Connections { get; private set; }

    /// <summary>Attacks carried out so far.</summary>
    public int AttacksDone => Volatile.Read(ref _attacksDone);

    /// <summary>Arms an attack on the next data frame towards Bob (<paramref name="towardsBob"/>) or towards Alice.</summary>
    public void Arm(Attack attack, bool towardsBob = true)
    {
        lock (_armed) _armed[towardsBob ? 0 : 1] = attack;
    }

    public void DropConnections()
    {
        lock (_sockets)
        {
            foreach (var s in _sockets) s.Close(0);
            _sockets.Clear();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        DropConnections();
        try { await _accept; } catch (Exception) { }
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptSocketAsync(_stop.Token); }
            catch (Exception) { return; }
            var server = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try { await server.ConnectAsync(_upstream, _stop.Token); }
            catch (Exception)
            {
                client.Close(0);
                server.Dispose();
                continue;
            }
            client.NoDelay = true;
            lock (_sockets)
            {
                _sockets.Add(client);
                _sockets.Add(server);
            }
            Connections++;
            _ = Task.Run(() => PumpAsync(client, server, towardsBob: true));
            _ = Task.Run(() => PumpAsync(server, client, towardsBob: false));
        }
    }

    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<Socket, SemaphoreSlim> _writeLocks = new();

    /// <summary>Whole frames only: the reflecting pump and the other direction's pump may write to the same socket.</summary>
    private async Task WriteAsync(Socket socket, byte[] frame, CancellationToken cancellationToken)
    {
        var gate = _writeLocks.GetValue(socket, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            int sent = 0;
            while (sent < frame.Length)
                sent += await socket.SendAsync(frame.AsMemory(sent), SocketFlags.None, cancellationToken);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task PumpAsync(Socket from, Socket to, bool towardsBob)
    {
        var source = new NetworkStream(from, ownsSocket: false);
        byte[]? previousData = null;
        byte[]? held = null;
        try
        {
            while (true)
            {
                var prefix = new byte[4];
                await source.ReadExactlyAsync(prefix, _stop.Token);
                int length = BinaryPrimitives.ReadInt32LittleEndian(prefix);
                var frame = new byte[4 + length];
                prefix.CopyTo(frame, 0);
                await source.ReadExactlyAsync(frame.AsMemory(4), _stop.Token);
                if (towardsBob) TowardsBob.Enqueue(frame);
                else if (_dropTowardsAlice) continue;
                bool data = frame[4 + 1] == DataType;
                Attack attack = Attack.None;
                if (data)
                {
                    lock (_armed)
                    {
                        attack = _armed[towardsBob ? 0 : 1];
                        if (attack == Attack.ReplayEarlier && previousData is null) attack = Attack.None;
                        if (attack != Attack.None) _armed[towardsBob ? 0 : 1] = Attack.None;
                    }
                }
                if (held is not null && data)
                {
                    Interlocked.Increment(ref _attacksDone); // counted first: the victim may reset the connection mid-way
                    var late = held;
                    held = null;
                    await WriteAsync(to, frame, _stop.Token);
                    await WriteAsync(to, late, _stop.Token);
                    previousData = frame;
                    continue;
                }
                switch (attack)
                {
                    case Attack.FlipBit:
                        Interlocked.Increment(ref _attacksDone);
                        var flipped = (byte[])frame.Clone();
                        flipped[^20] ^= 0x10; // inside the payload or the header, never the length prefix
                        await WriteAsync(to, flipped, _stop.Token);
                        break;
                    case Attack.ReplayEarlier:
                        Interlocked.Increment(ref _attacksDone);
                        await WriteAsync(to, frame, _stop.Token);
                        await WriteAsync(to, previousData!, _stop.Token);
                        break;
                    case Attack.SwapWithNext:
                        held = frame;
                        break;
                    case Attack.Truncate:
                        Interlocked.Increment(ref _attacksDone);
                        var cut = frame.AsSpan(0, frame.Length - 5).ToArray();
                        BinaryPrimitives.WriteInt32LittleEndian(cut, cut.Length - 4);
                        await WriteAsync(to, cut, _stop.Token);
                        break;
                    case Attack.Reflect:
                        Interlocked.Increment(ref _attacksDone);
                        await WriteAsync(to, frame, _stop.Token);
                        await WriteAsync(from, frame, _stop.Token);
                        break;
                    default:
                        await WriteAsync(to, frame, _stop.Token);
                        break;
                }
                if (data) previousData = frame;
            }
        }
        catch (Exception)
        {
            from.Close(0);
            to.Close(0);
        }
    }
}
