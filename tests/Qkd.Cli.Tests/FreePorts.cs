using System.Net;
using System.Net.Sockets;

namespace Qkd.Cli.Tests;

/// <summary>Ports for a test's two-node deployment (`qkd node init --base-port`), so parallel tests never share one.</summary>
internal static class FreePorts
{
    /// <summary>A base port whose next <paramref name="count"/> ports were all free a moment ago.</summary>
    public static int Block(int count = 5)
    {
        while (true)
        {
            int basePort = 20_000 + Random.Shared.Next(0, 8_000) * 5;
            var listeners = new List<TcpListener>();
            try
            {
                for (int i = 0; i < count; i++)
                {
                    var listener = new TcpListener(IPAddress.Loopback, basePort + i);
                    listener.Start();
                    listeners.Add(listener);
                }
                return basePort;
            }
            catch (SocketException)
            {
            }
            finally
            {
                foreach (var listener in listeners) listener.Stop();
            }
        }
    }
}
