using System.Buffers.Binary;
using System.Security.Cryptography;
using CsCheck;
using Qkd.Core.Random;

namespace Qkd.Core.Tests.Randomness;

public class EntropyMixerTests
{
    /// <summary>RFC 5869 with HMAC-SHA256 written out (extract, then expand), as an independent check of the mixer.</summary>
    private static byte[] Hkdf(byte[] ikm, byte[] info, int length)
    {
        byte[] prk = HMACSHA256.HashData("QkdDriver entropy mixer v1: device || os"u8.ToArray(), ikm);
        var okm = new List<byte>();
        byte[] previous = [];
        for (byte i = 1; okm.Count < length; i++)
        {
            previous = HMACSHA256.HashData(prk, (byte[])[.. previous, .. info, i]);
            okm.AddRange(previous);
        }
        return okm.Take(length).ToArray();
    }

    [Fact]
    public void The_key_is_HKDF_SHA256_over_device_bytes_then_OS_bytes_with_the_context_and_counter_as_info()
    {
        Gen.Select(Gen.Byte.Array[1, 64], Gen.Byte.Array[1, 64], Gen.Byte.Array[0, 40], Gen.ULong, Gen.Int[1, 100])
            .Sample((device, os, context, counter, length) =>
            {
                var key = new byte[length];
                EntropyMixer.Mix(device, os, context, counter, key);
                var info = new byte[context.Length + 8];
                context.CopyTo(info, 0);
                BinaryPrimitives.WriteUInt64LittleEndian(info.AsSpan(context.Length), counter);
                Assert.Equal(Hkdf([.. device, .. os], info, length), key);
            }, iter: 200);
    }

    [Fact]
    public void Either_source_alone_changes_the_key_and_so_does_the_counter()
    {
        Gen.Select(Gen.Byte.Array[32], Gen.Byte.Array[32], Gen.Int[0, 255], Gen.Byte[1, 255]).Sample((device, os, bit, flip) =>
        {
            byte[] Key(byte[] d, byte[] o, ulong counter)
            {
                var key = new byte[32];
                EntropyMixer.Mix(d, o, "test"u8, counter, key);
                return key;
            }
            byte[] baseline = Key(device, os, 1);
            Assert.Equal(baseline, Key(device, os, 1));
            var otherDevice = (byte[])device.Clone();
            otherDevice[bit % 32] ^= flip;
            var otherOs = (byte[])os.Clone();
            otherOs[bit % 32] ^= flip;
            Assert.NotEqual(baseline, Key(otherDevice, os, 1));
            Assert.NotEqual(baseline, Key(device, otherOs, 1));
            Assert.NotEqual(baseline, Key(device, os, 2));
        }, iter: 200);
    }

    [Fact]
    public void A_stuck_device_still_gives_fresh_keys_through_the_OS_half()
    {
        var stuck = new byte[EntropyMixer.SourceBytes]; // a QRNG that returns zeros
        var keys = new HashSet<string>();
        var key = new byte[32];
        for (int i = 0; i < 1000; i++)
        {
            EntropyMixer.MixWithOperatingSystem(stuck, "ctx"u8, 1, key);
            Assert.True(keys.Add(Convert.ToHexString(key)));
        }
    }

    [Fact]
    public void Bad_arguments_are_refused()
    {
        var key = new byte[32];
        Assert.Throws<ArgumentException>(() => EntropyMixer.Mix([], new byte[32], default, 0, key));
        Assert.Throws<ArgumentException>(() => EntropyMixer.Mix(new byte[32], [], default, 0, key));
        Assert.Throws<ArgumentOutOfRangeException>(() => EntropyMixer.Mix(new byte[32], new byte[32], default, 0, Span<byte>.Empty));
    }
}
