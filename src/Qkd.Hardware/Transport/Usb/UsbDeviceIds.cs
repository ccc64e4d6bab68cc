using Qkd.Protocol;

namespace Qkd.Hardware.Transport.Usb;

/// <summary>
/// USB identity of the supported devices: the pid.codes open-source vendor ID 0x1209 and one product ID per device
/// class, each with one vendor-specific interface 0 carrying bulk OUT 0x01 and bulk IN 0x81. udev-rules/70-qkd.rules
/// must list the same IDs (a test checks it).
/// </summary>
public static class UsbDeviceIds
{
    public const ushort VendorId = 0x1209;

    public const ushort DetectorProductId = 0x7D01;
    public const ushort ModulatorProductId = 0x7D02;
    public const ushort TimeTaggerProductId = 0x7D03;
    public const ushort RandomNumberGeneratorProductId = 0x7D04;

    /// <summary>The vendor-specific interface that carries the protocol.</summary>
    public const int Interface = 0;

    /// <summary>Host to device.</summary>
    public const byte BulkOutEndpoint = 0x01;

    /// <summary>Device to host.</summary>
    public const byte BulkInEndpoint = 0x81;

    /// <summary>High-speed bulk max packet size the firmware declares.</summary>
    public const int MaxPacketSize = 512;

    /// <summary>Every supported product, with its protocol device class and the udev symlink stem.</summary>
    public static IReadOnlyList<UsbProduct> Products { get; } =
    [
        new(DetectorProductId, DeviceClass.SinglePhotonDetector, "detector"),
        new(ModulatorProductId, DeviceClass.LaserModulator, "modulator"),
        new(TimeTaggerProductId, DeviceClass.TimeTagger, "timetagger"),
        new(RandomNumberGeneratorProductId, DeviceClass.RandomNumberGenerator, "qrng"),
    ];

    /// <summary>The product for a VID:PID pair, or null when it is not one of ours.</summary>
    public static UsbProduct? Find(ushort vendorId, ushort productId)
    {
        if (vendorId != VendorId) return null;
        foreach (var product in Products)
        {
            if (product.ProductId == productId) return product;
        }

        return null;
    }

    /// <summary>The product ID that carries a device class.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The class has no USB product (e.g. <see cref="DeviceClass.Any"/>).</exception>
    public static ushort ProductIdOf(DeviceClass deviceClass)
    {
        foreach (var product in Products)
        {
            if (product.DeviceClass == deviceClass) return product.ProductId;
        }

        throw new ArgumentOutOfRangeException(nameof(deviceClass), deviceClass, "no USB product carries this device class");
    }
}

/// <summary>One supported USB product.</summary>
/// <param name="ProductId">idProduct under <see cref="UsbDeviceIds.VendorId"/>.</param>
/// <param name="DeviceClass">The protocol device class its firmware speaks (frame header byte 1).</param>
/// <param name="SymlinkStem">udev names it /dev/qkd/&lt;stem&gt;-&lt;serial&gt;.</param>
public sealed record UsbProduct(ushort ProductId, DeviceClass DeviceClass, string SymlinkStem);
