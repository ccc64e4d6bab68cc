using Qkd.Protocol;

namespace Qkd.Hardware.Bindings;

/// <summary>
/// Runs a call into an Iot.Device.Bindings driver and turns what it throws (IOException from the bus,
/// TimeoutException, and the plain Exception some bindings use) into a <see cref="DeviceException"/> that names the chip,
/// its bus position and the operation, as every other driver here does.
/// </summary>
internal static class BindingCall
{
    public static T Run<T>(string device, string operation, Func<T> call)
    {
        try
        {
            return call();
        }
        catch (Exception ex) when (ex is not DeviceException and not ObjectDisposedException and not ArgumentException)
        {
            throw new DeviceException(device, operation, ex.Message, ex);
        }
    }

    public static void Run(string device, string operation, Action call) =>
        Run(device, operation, () =>
        {
            call();
            return true;
        });
}
