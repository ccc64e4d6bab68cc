using CsCheck;

namespace Qkd.Audit.Tests;

/// <summary>Any single-byte change anywhere in a log of random events is caught.</summary>
public sealed class AuditLogPropertyTests
{
    private static readonly Gen<AuditEvent> Event = Gen.OneOf(
        Gen.Long[0, long.MaxValue].Select(s => AuditEvent.SessionStarted(s)),
        Gen.Select(Gen.Long[0, 1000], Gen.String).Select((s, why) => AuditEvent.SessionAborted(why, s)),
        Gen.Select(Gen.String[Gen.Char.AlphaNumeric, 1, 20], Gen.Guid.Array[1, 8]).Select((sae, ids) => AuditEvent.KeysDelivered("enc_keys", sae, "sae-bob-1", ids)),
        Gen.Select(Gen.String, Gen.String).Select((alarm, detail) => AuditEvent.AlarmRaised(alarm, "security", detail)),
        Gen.String.Select(alarm => AuditEvent.AlarmCleared(alarm)),
        Gen.Select(Gen.String, Gen.String).Select((file, sha) => AuditEvent.NodeStarted("alice", "demo-link", file, sha)));

    [Fact]
    public void Any_single_byte_change_is_caught()
    {
        Gen.Select(Event.Array[1, 12], Gen.Int[0, int.MaxValue], Gen.Byte[1, 255]).Sample((events, where, flip) =>
        {
            using var fixture = new AuditLogFixture();
            using (var log = AuditLog.Open(fixture.LogPath, fixture.Key, AuditLogFixture.Fast(fixture.LogPath)))
                foreach (var e in events) log.Write(e);
            Assert.True(fixture.Verify().Ok);

            byte[] content = File.ReadAllBytes(fixture.LogPath);
            content[where % content.Length] ^= flip;
            File.WriteAllBytes(fixture.LogPath, content);

            var result = fixture.Verify();
            Assert.False(result.Ok, $"byte {where % content.Length} of {content.Length} xor {flip:x2} went unnoticed");
        }, iter: 300);
    }
}
