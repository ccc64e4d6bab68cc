// USB probe: exercises the libusb layer end to end against whatever USB bus it sees (under umockdev-run, a recorded
// device) and prints one "key: value" line per step, which the test asserts on. Exit code 0 when every step ran.
//
//   Qkd.UsbProbe <vid hex> <pid hex> <serial> <command frame hex>
//
// Steps: list all devices; find ours by VID:PID and serial; open, claim interface 0, synchronous bulk OUT of the
// command and bulk IN of the reply (libusb_bulk_transfer); close; then the same exchange through UsbFrameTransport
// (asynchronous bulk IN with one transfer in flight, since umockdev's ioctl replay serves one URB at a time), and
// keep reading until the device reports itself gone (a disconnect is scripted after the reply).
using System.Globalization;
using Qkd.Hardware.Transport.Usb;
using Qkd.Protocol;

if (args.Length != 4)
{
    Console.Error.WriteLine("usage: Qkd.UsbProbe <vid hex> <pid hex> <serial> <command frame hex>");
    return 2;
}

var vendorId = ushort.Parse(args[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
var productId = ushort.Parse(args[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
var serial = args[2];
var command = Convert.FromHexString(args[3]);

try
{
    var enumerator = new UsbEnumerator();
    foreach (var device in enumerator.ListAll()) Console.WriteLine($"listed: {device}");

    var info = enumerator.FindSingle(vendorId, productId, serial);
    Console.WriteLine($"found: {info}");
    Console.WriteLine($"serial: {info.SerialNumber}");
    Console.WriteLine($"manufacturer: {info.Manufacturer}");
    Console.WriteLine($"product: {info.Product}");
    Console.WriteLine($"location: {info.Location} {info.DevicePath}");
    Console.WriteLine($"class: {info.KnownProduct?.DeviceClass}");

    using (var device = UsbDevice.Open(info))
    {
        Console.WriteLine($"max packet IN: {device.GetMaxPacketSize(UsbDeviceIds.BulkInEndpoint)}");
        device.ClaimInterface(UsbDeviceIds.Interface);
        Console.WriteLine($"claimed: {UsbDeviceIds.Interface}");
        device.BulkWrite(UsbDeviceIds.BulkOutEndpoint, command, TimeSpan.FromSeconds(2));
        Console.WriteLine($"sync sent: {Convert.ToHexString(command)}");
        var reply = new byte[UsbFrameTransport.TransferLength];
        var length = device.BulkRead(UsbDeviceIds.BulkInEndpoint, reply, TimeSpan.FromSeconds(2));
        Console.WriteLine($"sync reply: {Convert.ToHexString(reply, 0, length)}");
    }

    using (var transport = UsbFrameTransport.Open(info, transfersInFlight: 1))
    {
        Console.WriteLine($"transport: {transport.Description} {transport.Framing} {transport.MaxWriteLength}");
        transport.Write(command);
        var buffer = new byte[UsbFrameTransport.TransferLength];
        var length = transport.Read(buffer);
        Console.WriteLine($"async reply: {Convert.ToHexString(buffer, 0, length)}");
        try
        {
            length = transport.Read(buffer);
            Console.WriteLine($"async unexpected: {Convert.ToHexString(buffer, 0, length)}");
        }
        catch (DeviceDisconnectedException e)
        {
            Console.WriteLine($"disconnected: {e.Message}");
        }
    }

    Console.WriteLine("done");
    return 0;
}
catch (DeviceException e)
{
    Console.WriteLine($"error: {e.GetType().Name}: {e.Message}");
    return 1;
}
