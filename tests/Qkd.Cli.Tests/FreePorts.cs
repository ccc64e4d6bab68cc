using System.Net;
using System.Net.Sockets;

namespace Qkd.Cli.Tests;

/// <summary>
/// Ports for a test's two-node deployment (`qkd node init --base-port`), so parallel tests never share one. Below the
/// kernel's ephemeral range (32768-60999 on Linux): a port there can be taken at any moment by an outgoing connection of
/// another test, or of a load test on the same machine, between the check and the node's bind. Compiled into every test
/// project that starts nodes (linked from Qkd.Cli.Tests).
/// </summary>
internal static class FreePorts
{
    /// <summary>A base port whose next <paramref name="count"/> ports were all free a moment ago.</summary>
    public static int Block(int count = 5)
    {
        while (true)
        {
            int basePort = 10_000 + Random.Shared.Next(0, 4_400) * 5; // 10000..31995 + count
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
