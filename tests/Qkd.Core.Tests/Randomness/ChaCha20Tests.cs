using CsCheck;
using Qkd.Core.Random;

namespace Qkd.Core.Tests.Randomness;

public class ChaCha20Tests
{
    [Fact]
    public void Block_matches_the_RFC_8439_test_vector()
    {
        // RFC 8439 section 2.3.2: key 00 01 .. 1f, block count 1, nonce 00:00:00:09:00:00:00:4a:00:00:00:00. In the
        // 64-bit counter layout, state words 13..15 (the RFC's nonce) are the counter's high word and the nonce.
        var key = new uint[8];
        for (int i = 0; i < 32; i++) key[i / 4] |= (uint)i << (8 * (i % 4));
        var block = new uint[16];
        ChaCha20.Block(key, 1UL | (0x09000000UL << 32), 0x4a000000UL, block);
        uint[] expected =
        [
            0xe4e7f110, 0x15593bd1, 0x1fdd0f50, 0xc47120a3, 0xc7f4d1c7, 0x0368c033, 0x9aaa2204, 0x4e6cd4c3,
            0x466482d2, 0x09aa9f07, 0x05d7c214, 0xa2028bd9, 0xd19c12b5, 0xb94e16de, 0xe883d0cb, 0x4e3c50a2,
        ];
        Assert.Equal(expected, block);
    }

    [Fact]
    public void Eight_blocks_at_once_equal_the_blocks_one_by_one()
    {
        Gen.Select(Gen.UInt.Array[8], Gen.ULong, Gen.ULong).Sample((key, counter, nonce) =>
        {
            var wide = new uint[128];
            ChaCha20.Blocks8(key, counter, nonce, wide);
            var block = new uint[16];
            for (int b = 0; b < 8; b++)
            {
                ChaCha20.Block(key, unchecked(counter + (ulong)b), nonce, block);
                Assert.Equal(block, wide.AsSpan(16 * b, 16).ToArray());
            }
        }, iter: 100);
    }
}
