using System.Buffers.Binary;
using CsCheck;
using Microsoft.Extensions.Logging.Abstractions;

namespace Qkd.ClassicalChannel.Tests;

/// <summary>The authentication layer alone: sealing, verification, replay, reflection, channels, key epochs, notices and exhaustion.</summary>
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
        _alice = new WegmanCarterAuthenticator(_alicePad, ChannelKind.Session, _aliceSecurity);
        _bob = new WegmanCarterAuthenticator(_bobPad, ChannelKind.Session, _bobSecurity);
    }

    public void Dispose()
    {
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

    private static ValueTask<FrameVerification> Verify(WegmanCarterAuthenticator authenticator, byte[] body) =>
        ValueTask.FromResult(authenticator.Verify(body));

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

            // Recomputed from the pre-shared file alone: in each group of 8 chunks, 0/2/4 are Alice's session pads, 1/3/5 Bob's.
            var expected = new byte[FrameHeader.Overhead + payload.Length];
            new FrameHeader(FrameType.Data, sender, 0, payload.Length, index, session, 0x1122334455667788, 0x99AABBCCDDEEFF01, 7, 3).Write(expected);
            payload.CopyTo(expected, FrameHeader.Size);
            var pad = secret.AsSpan(AuthenticationPadStore.HashKeyBytes + (int)(8 * (index / 3) + 2 * (index % 3) + (int)sender) * 16, 16);
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
        var headers = Gen.Select(Gen.Enum<FrameType>().Where(t => t != FrameType.Refused), Gen.Long[0, long.MaxValue], Gen.Long[0, long.MaxValue], Gen.Byte[0, 7], Gen.Guid)
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
        Assert.Equal(FrameVerdict.Replayed, (await Verify(_bob, second)).Verdict);
        Assert.Equal(FrameVerdict.Replayed, (await Verify(_bob, first)).Verdict); // sealed earlier, overtaken
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
    public async Task A_frame_of_the_other_channel_is_refused_as_such()
    {
        var kmeAlice = new WegmanCarterAuthenticator(_alicePad, ChannelKind.KmeLink, _aliceSecurity);
        var kmeBob = new WegmanCarterAuthenticator(_bobPad, ChannelKind.KmeLink, _bobSecurity);
        var hello = Seal(_alice, Header(FrameType.Hello), []);
        Assert.Equal(FrameVerdict.Foreign, (await Verify(kmeBob, hello)).Verdict);
        Assert.Equal(1, _bobSecurity.CrossChannel);
        Assert.Equal(0, _bobSecurity.Forgeries);
        // The same on its own channel is authentic, and the two channels' lanes are separate (index 0 on each).
        Assert.True((await Verify(_bob, hello)).IsAuthentic);
        var kme = Seal(kmeAlice, Header(FrameType.Hello), []);
        var verdict = await Verify(kmeBob, kme);
        Assert.True(verdict.IsAuthentic);
        Assert.Equal(0, verdict.Header.PadIndex);
        Assert.Equal(ChannelKind.KmeLink, verdict.Header.Channel);
    }

    [Fact]
    public async Task After_a_replenishment_frames_use_the_new_hash_key_and_a_frame_naming_key_or_pad_not_held_is_damaged()
    {
        using var pads = new TestPads(padBytes: TestPads.PadBytesForSessionTags(3));
        using var alicePad = pads.Open(ChannelEnd.Alice);
        using var bobPad = pads.Open(ChannelEnd.Bob);
        var aliceSecurity = new ChannelSecurityCounters(alicePad);
        var bobSecurity = new ChannelSecurityCounters(bobPad);
        var alice = new WegmanCarterAuthenticator(alicePad, ChannelKind.Session, aliceSecurity);
        var bob = new WegmanCarterAuthenticator(bobPad, ChannelKind.Session, bobSecurity);

        for (int i = 0; i < 3; i++) Seal(alice, Header(), []);
        var exhausted = Assert.Throws<AuthenticationPadExhaustedException>(() => Seal(alice, Header(), []));
        Assert.Contains("exhausted", exhausted.Message);
        Assert.Equal(3, aliceSecurity.TagsCreated);

        var block = TestPads.Replenishment(groups: 1);
        TestPads.ReplenishBoth(alicePad, bobPad, 1, block);
        var next = Seal(alice, Header(), [5]);
        var frame = await Verify(bob, next);
        Assert.True(frame.IsAuthentic);
        Assert.Equal(1, frame.Header.KeyEpoch);
        Assert.Equal(3, frame.Header.PadIndex);
        // Recomputed with the replenishment's key and pad: stream chunk 8 (the first of the new group) is Alice's.
        var expected = (byte[])next.Clone();
        Gf128PolynomialHash.ComputeTag(block.AsSpan(0, 16), expected.AsSpan(0, FrameHeader.Size + 1), block.AsSpan(16, 16), expected.AsSpan(FrameHeader.Size + 1));
        Assert.Equal(expected, next);

        // A header naming an epoch Bob has not reached (re-sealed by someone who knows everything, to isolate the check).
        var future = (byte[])next.Clone();
        BinaryPrimitives.WriteInt64LittleEndian(future.AsSpan(72), 2);
        var damaged = await Verify(bob, future);
        Assert.Equal(FrameVerdict.Damaged, damaged.Verdict);
        Assert.True(damaged.BeyondMaterial);
    }

    [Fact]
    public async Task A_notice_uses_the_pre_shared_key_and_reserve_so_a_peer_with_a_fresh_state_can_check_it()
    {
        var block = TestPads.Replenishment(groups: 4);
        TestPads.ReplenishBoth(_alicePad, _bobPad, 1, block);
        // Bob's state is at epoch 1; a fresh Alice (state lost) has only the pre-shared secret.
        using var freshAlicePad = AuthenticationPadStore.Open(_pads.SecretPath, _pads.StateOf(ChannelEnd.Alice, "-fresh"), ChannelEnd.Alice);
        var freshAlice = new WegmanCarterAuthenticator(freshAlicePad, ChannelKind.Session, new ChannelSecurityCounters(freshAlicePad));
        byte[] payload = [(byte)RefusalReason.PadStateOlder, .. _bobPad.Position(ChannelKind.Session).ToBytes()];
        var notice = new byte[FrameHeader.Overhead + payload.Length];
        _bob.SealNotice(Header(FrameType.Refused), payload, notice);
        var verdict = await Verify(freshAlice, notice);
        Assert.Equal(FrameVerdict.Notice, verdict.Verdict);
        Assert.Equal(payload, verdict.Payload.ToArray());
        Assert.Equal(0, verdict.Header.KeyEpoch);
        // A notice is not a frame of the lane: an ordinary frame of Bob's at epoch 1 is beyond the fresh Alice.
        Assert.True((await Verify(freshAlice, Seal(_bob, Header(), [1]))).BeyondMaterial);
        // Tampered, it is damaged.
        notice[^1] ^= 1;
        Assert.Equal(FrameVerdict.Damaged, (await Verify(freshAlice, notice)).Verdict);
    }

    [Fact]
    public async Task A_first_contact_frame_covers_the_whole_secret_so_a_byte_that_differs_anywhere_fails()
    {
        var body = Seal(_alice, Header(FrameType.Hello, flags: FrameHeader.CoversSecretFlag), []);
        Assert.True((await Verify(_bob, body)).IsAuthentic);

        // Bob's copy of the secret differs in one byte far from any pad chunk used so far.
        using var pads = new TestPads(padBytes: 2 * 4096 * 16);
        File.Copy(_pads.SecretPath, pads.SecretPath, overwrite: true);
        var flipped = File.ReadAllBytes(pads.SecretPath);
        flipped[flipped.Length / 2] ^= 0x01;
        File.WriteAllBytes(pads.SecretPath, flipped);
        using var otherBobPad = pads.Open(ChannelEnd.Bob);
        var otherBob = new WegmanCarterAuthenticator(otherBobPad, ChannelKind.Session, new ChannelSecurityCounters(otherBobPad));
        var hello = Seal(_alice, Header(FrameType.Hello, flags: FrameHeader.CoversSecretFlag), []);
        Assert.Equal(FrameVerdict.Damaged, (await Verify(otherBob, hello)).Verdict);
        // Without the flag the same pad chunk and key would have verified: the digest is what catches it.
        Assert.True((await Verify(otherBob, Seal(_alice, Header(FrameType.Hello), []))).IsAuthentic);
    }
}
