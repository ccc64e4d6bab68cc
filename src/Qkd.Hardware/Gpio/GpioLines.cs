using System.Device.Gpio;
using Qkd.Protocol;

namespace Qkd.Hardware.Gpio;

/// <summary>Opening and closing helpers shared by the roles: a role opens a line only if nobody has, and closes only what it opened.</summary>
internal static class GpioLines
{
    /// <summary>Opens <paramref name="pin"/> as an input in <paramref name="mode"/>, or checks that an already open pin is an input. Returns whether this call opened it.</summary>
    public static bool OpenInput(GpioController controller, int pin, PinMode mode, string role)
    {
        if (controller.IsPinOpen(pin))
        {
            if (controller.GetPinMode(pin) == PinMode.Output)
                throw new DeviceException($"{role} (GPIO {pin})", "open the input line", "the line is already open as an output");
            return false;
        }
        try
        {
            controller.OpenPin(pin, mode);
            return true;
        }
        catch (Exception ex) when (ex is not DeviceException)
        {
            throw new DeviceException($"{role} (GPIO {pin})", $"open the line as {mode}", ex.Message, ex);
        }
    }

    /// <summary>Opens <paramref name="pin"/> as an output already at <paramref name="initial"/>, so it never glitches to the other level.</summary>
    public static void OpenOutput(GpioController controller, int pin, PinValue initial, string role)
    {
        if (controller.IsPinOpen(pin))
            throw new DeviceException($"{role} (GPIO {pin})", "open the output line", "the line is already open (two roles on one output?)");
        try
        {
            controller.OpenPin(pin, PinMode.Output, initial);
        }
        catch (Exception ex) when (ex is not DeviceException)
        {
            throw new DeviceException($"{role} (GPIO {pin})", "open the line as an output", ex.Message, ex);
        }
    }

    public static void Release(GpioController controller, int pin, PinChangeEventHandler? callback, bool close)
    {
        try
        {
            if (callback is not null && controller.IsPinOpen(pin))
                controller.UnregisterCallbackForPinValueChangedEvent(pin, callback);
            if (close && controller.IsPinOpen(pin))
                controller.ClosePin(pin);
        }
        catch (ObjectDisposedException)
        {
            // The controller went first; its pins are closed already.
        }
    }
}
