using System.Buffers.Binary;
using CsCheck;
using Microsoft.Extensions.Logging.Abstractions;

namespace Qkd.ClassicalChannel.Tests;

/// <summary>The authentication layer alone: sealing, verification, replay and reflection, pad waits and exhaustion.</summary>
public sealed class WegmanCarterAuthenticatorTests : IDisposable
{
    private readonly TestPads _pads = new(padBytes: 2 * 4096 * 16);
    private readonly AuthenticationPadStore _alicePad;
    private readonly AuthenticationPadStore _bobPad;
    private readonly ChannelSecurityCounters _aliceSecurity;
    private readonly ChannelSecurityCounters _bobSecurity;
    private readonly WegmanCarterAuthenticator _alice;
    private readonly WegmanCarterAuthenticator _bob;

    public WegmanCarterAuthenticatorTests()
    {
        _alicePad = _pads.Open(ChannelEnd.Alice);
        _bobPad = _pads.Open(ChannelEnd.Bob);
        _aliceSecurity = new ChannelSecurityCounters(_alicePad);
        _bobSecurity = new ChannelSecurityCounters(_bobPad);
        // No waiting for pad material: an index beyond it is refused at once.
        _alice = new WegmanCarterAuthenticator(_alicePad, TimeSpan.Zero, _aliceSecurity, NullLogger.Instance);
        _bob = new WegmanCarterAuthenticator(_bobPad, TimeSpan.Zero, _bobSecurity, NullLogger.Instance);
    }

    public void Dispose()
    {
        _alice.Dispose();
        _bob.Dispose();
        _alicePad.Dispose();
        _bobPad.Dispose();
        _pads.Dispose();
    }

    private static FrameHeader Header(FrameType type = FrameType.Data, long sequence = 1, long acknowledged = 0, byte flags = 0, Guid session = default) =>
        new(type, ChannelEnd.Alice, flags, 0, 0, session, 0x1122334455667788, 0x99AABBCCDDEEFF01, sequence, acknowledged);

    private static byte[] Seal(WegmanCarterAuthenticator authenticator, FrameHeader header, byte[] payload)
    {
        var body = new byte[FrameHeader.Overhead + payload.Length];
        authenticator.Seal(header, payload, body);
        return body;
    }

    private ValueTask<FrameVerification> Verify(WegmanCarterAuthenticator authenticator, byte[] body) =>
        authenticator.VerifyAsync(body, TestContext.Current.CancellationToken);

    [Fact]
    public void A_sealed_body_is_header_payload_and_the_tag_over_both_with_the_sender_s_pad_chunk()
    {
        var secret = File.ReadAllBytes(_pads.SecretPath);
        var hashKey = secret.AsSpan(0, AuthenticationPadStore.HashKeyBytes);
        byte[] payload = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17];
        var session = Guid.NewGuid();
        var cases = new[]
        {
            (Sealer: _alice, Sender: ChannelEnd.Alice, Index: 0L),
            (Sealer: _alice, Sender: ChannelEnd.Alice, Index: 1L),
            (Sealer: _bob, Sender: ChannelEnd.Bob, Index: 0L),
        };
        foreach (var (sealer, sender, index) in cases)
        {
            // The header handed in always says Alice and no pad index: the sealer writes its own end and index.
            var body = Seal(sealer, Header(session: session, sequence: 7, acknowledged: 3), payload);

            // Recomputed from the pre-shared file alone: chunk 2i is Alice's i-th pad, 2i+1 Bob's.
            var expected = new byte[FrameHeader.Overhead + payload.Length];
            new FrameHeader(FrameType.Data, sender, 0, payload.Length, index, session, 0x1122334455667788, 0x99AABBCCDDEEFF01, 7, 3).Write(expected);
            payload.CopyTo(expected, FrameHeader.Size);
            var pad = secret.AsSpan(AuthenticationPadStore.HashKeyBytes + (int)(2 * index + (int)sender) * 16, 16);
            Gf128PolynomialHash.ComputeTag(hashKey, expected.AsSpan(0, FrameHeader.Size + payload.Length), pad, expected.AsSpan(FrameHeader.Size + payload.Length));
            Assert.Equal(expected, body);

            // The fields the sealer owns sit where the wire format says.
            Assert.Equal((byte)sender, body[2]);
            Assert.Equal(payload.Length, BinaryPrimitives.ReadInt32LittleEndian(body.AsSpan(4)));
            Assert.Equal(index, BinaryPrimitives.ReadInt64LittleEndian(body.AsSpan(8)));
        }
        Assert.Equal(2, _aliceSecurity.TagsCreated);
        Assert.Equal(1, _bobSecurity.TagsCreated);
    }

    [Fact]
    public async Task Every_untampered_frame_is_accepted_and_every_single_bit_flip_is_rejected()
    {
        var headers = Gen.Select(Gen.Enum<FrameType>(), Gen.Long[0, long.MaxValue], Gen.Long[0, long.MaxValue], Gen.Byte, Gen.Guid)
            .Select((type, sequence, acknowledged, flags, session) => Header(type, sequence, acknowledged, flags, session));
        await Gen.Select(headers, Gen.Byte.Array[0, 100]).SampleAsync(async (header, payload) =>
        {
            var body = Seal(_alice, header, payload);
            for (int bit = 0; bit < body.Length * 8; bit++)
            {
                var tampered = (byte[])body.Clone();
                tampered[bit / 8] ^= (byte)(1 << (bit % 8));
                long rejectedBefore = _bobSecurity.RejectedTotal;
                var verdict = await Verify(_bob, tampered);
                Assert.False(verdict.IsAuthentic, $"bit {bit} flipped and still accepted");
                Assert.Equal(rejectedBefore + 1, _bobSecurity.RejectedTotal);
            }

            // The rejections moved nothing: the untouched frame is still accepted, exactly as sealed.
            var frame = await Verify(_bob, body);
            Assert.True(frame.IsAuthentic);
            Assert.Equal(header with { Sender = ChannelEnd.Alice, PayloadLength = payload.Length, PadIndex = frame.Header.PadIndex }, frame.Header);
            Assert.Equal(payload, frame.Payload.ToArray());
            Assert.True(_bob.Accept(frame.Header));
        }, iter: 60, threads: 1);
        Assert.Equal(0, _bobSecurity.Replays);
    }

    [Fact]
    public async Task A_frame_once_accepted_or_overtaken_is_a_replay_and_our_own_frame_a_reflection()
    {
        var first = Seal(_alice, Header(sequence: 1), [1]);
        var second = Seal(_alice, Header(sequence: 2), [2]);

        var accepted = await Verify(_bob, second);
        Assert.True(_bob.Accept(accepted.Header));
        Assert.Equal(FrameVerdict.Foreign, (await Verify(_bob, second)).Verdict);
        Assert.Equal(FrameVerdict.Foreign, (await Verify(_bob, first)).Verdict); // sealed earlier, overtaken
        Assert.Equal(2, _bobSecurity.Replays);

        // Two copies passed verification (two connections): only the first to be accepted counts.
        var third = Seal(_alice, Header(sequence: 3), [3]);
        var copyA = await Verify(_bob, third);
        var copyB = await Verify(_bob, third);
        Assert.True(_bob.Accept(copyA.Header));
        Assert.False(_bob.Accept(copyB.Header));
        Assert.Equal(3, _bobSecurity.Replays);

        // Alice's frame sent back to Alice carries her own genuine tag: a reflection, which loses nothing.
        Assert.Equal(FrameVerdict.Foreign, (await Verify(_alice, Seal(_alice, Header(), [9]))).Verdict);
        Assert.Equal(1, _aliceSecurity.Reflections);
        Assert.Equal(0, _aliceSecurity.Forgeries);
    }

    [Fact]
    public async Task Damaged_frames_are_counted_by_reason()
    {
        var body = Seal(_alice, Header(), [1, 2, 3]);

        var wrongVersion = (byte[])body.Clone();
        wrongVersion[0] = 9;
        Assert.Equal(FrameVerdict.Damaged, (await Verify(_bob, wrongVersion)).Verdict);
        Assert.Equal(1, _bobSecurity.Malformed);

        var shortened = body.AsSpan(0, body.Length - 1).ToArray(); // the header promises more than is there
        Assert.Equal(FrameVerdict.Damaged, (await Verify(_bob, shortened)).Verdict);
        Assert.Equal(1, _bobSecurity.Truncations);

        byte[] lengthened = [.. body, 0]; // more than the header promises
        Assert.Equal(FrameVerdict.Damaged, (await Verify(_bob, lengthened)).Verdict);
        Assert.Equal(2, _bobSecurity.Malformed);

        var forged = (byte[])body.Clone();
        forged[^1] ^= 1;
        Assert.Equal(FrameVerdict.Damaged, (await Verify(_bob, forged)).Verdict);
        Assert.Equal(1, _bobSecurity.Forgeries);
        Assert.Equal(1, _bobSecurity.TagsChecked); // only a frame that parses has its tag checked
    }

    [Fact]
    public async Task A_frame_using_pad_the_receiver_has_not_replenished_yet_waits_for_it()
    {
        using var pads = new TestPads(padBytes: 2 * 2 * 16); // two tags per direction
        using var alicePad = pads.Open(ChannelEnd.Alice);
        using var bobPad = pads.Open(ChannelEnd.Bob);
        var aliceSecurity = new ChannelSecurityCounters(alicePad);
        var bobSecurity = new ChannelSecurityCounters(bobPad);
        using var alice = new WegmanCarterAuthenticator(alicePad, TimeSpan.Zero, aliceSecurity, NullLogger.Instance);
        // The wait is only a safety net here: the test releases it by replenishing.
        using var bob = new WegmanCarterAuthenticator(bobPad, TimeSpan.FromMinutes(5), bobSecurity, NullLogger.Instance);
        using var impatientBob = new WegmanCarterAuthenticator(bobPad, TimeSpan.Zero, bobSecurity, NullLogger.Instance);

        Seal(alice, Header(), []);
        Seal(alice, Header(), []);
        var exhausted = Assert.Throws<AuthenticationPadExhaustedException>(() => Seal(alice, Header(), []));
        Assert.Contains("exhausted", exhausted.Message);
        Assert.Equal(2, aliceSecurity.TagsCreated);

        var distilled = System.Security.Cryptography.RandomNumberGenerator.GetBytes(4 * 16);
        Assert.True(alicePad.Replenish(1, distilled));
        var beyond = Seal(alice, Header(), [5]);

        Assert.Equal(FrameVerdict.Damaged, (await impatientBob.VerifyAsync(beyond, TestContext.Current.CancellationToken)).Verdict);
        Assert.Equal(1, bobSecurity.Forgeries);

        var waiting = bob.VerifyAsync(beyond, TestContext.Current.CancellationToken).AsTask();
        Assert.False(waiting.IsCompleted); // nothing but Bob's replenishment can complete it
        Assert.True(bobPad.Replenish(1, distilled));
        Assert.True((await waiting).IsAuthentic);
    }
}
