using System.Text.Json;
using Microsoft.Extensions.Time.Testing;

namespace Qkd.Status.Tests;

/// <summary>The status document as JSON: every field present, unknown values null (never NaN or a made-up zero).</summary>
public class StatusDocumentJsonTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 7, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Before_the_first_block_the_values_are_null_and_the_headline_says_no_data()
    {
        var board = new StatusBoard("link-a", "alice", clock: new FakeTimeProvider(Start));
        using var json = Serialise(board);
        var root = json.RootElement;

        foreach (string field in (string[])["generatedAt", "linkId", "role", "runningSince", "headline", "latest", "blocks", "pool", "devices", "alarms"])
            Assert.True(root.TryGetProperty(field, out _), $"status.json has no {field}");
        Assert.Equal("noData", root.GetProperty("headline").GetProperty("state").GetString());
        Assert.Contains("Bob's node", root.GetProperty("headline").GetProperty("text").GetString()); // Alice never sees blocks
        var latest = root.GetProperty("latest");
        foreach (string field in (string[])["blockId", "blockAt", "qberZPercent", "qberXPercent", "transmittance", "lossDb", "keyRateBitsPerSecond"])
            Assert.Equal(JsonValueKind.Null, latest.GetProperty(field).ValueKind);
        Assert.Equal(0, latest.GetProperty("blocksTotal").GetInt64());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("pool").ValueKind);
        Assert.Empty(root.GetProperty("blocks").EnumerateArray());
    }

    [Fact]
    public void NaN_from_a_block_or_an_alarm_becomes_null_and_every_field_is_written()
    {
        var clock = new FakeTimeProvider(Start);
        var alarms = new TestAlarmFeed();
        alarms.Raise(new StatusAlarm("loss_step", false, Start, null, 1, "Loss rose by 0.31 dB", double.NaN, double.PositiveInfinity));
        var board = new StatusBoard("link-a", "bob", alarms, () => new KeyPoolSizes(10, 2, 100, 256),
            () => [new DeviceHealth("detector", "single-photon detector", "connected", true)], clock);
        clock.Advance(TimeSpan.FromSeconds(10));
        board.RecordBlock(new BlockReport(1, false, "QBER 12 % is above the 11 % limit", double.NaN, double.NaN, 0, double.NaN));

        using var json = Serialise(board);
        string text = json.RootElement.GetRawText();
        Assert.DoesNotContain("NaN", text);
        Assert.DoesNotContain("Infinity", text);
        var block = json.RootElement.GetProperty("blocks")[0];
        foreach (string field in (string[])["blockId", "at", "producedKey", "reason", "qberZPercent", "qberXPercent", "lossDb", "keyRateBitsPerSecond", "secretBits"])
            Assert.True(block.TryGetProperty(field, out _), $"a block has no {field}");
        Assert.Equal(JsonValueKind.Null, block.GetProperty("qberZPercent").ValueKind);
        Assert.Equal(JsonValueKind.Null, block.GetProperty("lossDb").ValueKind);
        var alarm = json.RootElement.GetProperty("alarms")[0];
        foreach (string field in (string[])["kind", "threatensSecurity", "raised", "raisedAt", "clearedAt", "blockId", "message", "value", "threshold"])
            Assert.True(alarm.TryGetProperty(field, out _), $"an alarm has no {field}");
        Assert.Equal(JsonValueKind.Null, alarm.GetProperty("value").ValueKind);
        Assert.Equal(JsonValueKind.Null, alarm.GetProperty("threshold").ValueKind);
        Assert.True(alarm.GetProperty("raised").GetBoolean());
        var headline = json.RootElement.GetProperty("headline");
        Assert.Equal("stopped", headline.GetProperty("state").GetString());
        Assert.Equal("QBER 12 % is above the 11 % limit", headline.GetProperty("reason").GetString());
        var pool = json.RootElement.GetProperty("pool");
        Assert.Equal(10, pool.GetProperty("now").GetProperty("availableAsMaster").GetInt64());
        Assert.Equal(1, pool.GetProperty("history").GetArrayLength());
    }

    [Fact]
    public void Values_units_and_the_key_rate_over_the_window()
    {
        var clock = new FakeTimeProvider(Start);
        var board = new StatusBoard("link-a", "bob", clock: clock);
        clock.Advance(TimeSpan.FromSeconds(20));
        board.RecordBlock(new BlockReport(1, true, null, 0.02, 0.03, 2_000, 0.1));
        clock.Advance(TimeSpan.FromSeconds(20));
        board.RecordBlock(new BlockReport(2, true, null, 0.04, double.NaN, 6_000, double.NaN));

        var doc = board.Snapshot();
        Assert.Equal(4.0, doc.Latest.QberZPercent!.Value, 9);
        Assert.Equal(3.0, doc.Latest.QberXPercent!.Value, 9); // the last block that measured X
        Assert.Equal(0.1, doc.Latest.Transmittance);
        Assert.Equal(10.0, doc.Latest.LossDb!.Value, 9);
        Assert.Equal(8_000 / 40.0, doc.Latest.KeyRateBitsPerSecond!.Value, 9); // all bits over the node's 40 s of life
        Assert.Equal([100.0, 300.0], doc.Blocks.Select(b => b.KeyRateBitsPerSecond)); // each block over the time since the one before
        Assert.Equal(8_000, doc.Latest.SecretBitsTotal);

        clock.Advance(StatusBoard.KeyRateWindow); // no block for ten minutes: the rate falls to zero, the last values stay
        doc = board.Snapshot();
        Assert.Equal(0, doc.Latest.KeyRateBitsPerSecond);
        Assert.Equal(4.0, doc.Latest.QberZPercent!.Value, 9);
    }

    [Fact]
    public void The_histories_keep_only_the_newest()
    {
        var clock = new FakeTimeProvider(Start);
        var board = new StatusBoard("link-a", "bob", clock: clock);
        for (int i = 1; i <= StatusBoard.BlockHistory + 5; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            board.RecordBlock(new BlockReport(i, true, null, 0.02, 0.02, 10, 0.5));
        }
        var blocks = board.Snapshot().Blocks;
        Assert.Equal(StatusBoard.BlockHistory, blocks.Count);
        Assert.Equal(6, blocks[0].BlockId);
        Assert.Equal(StatusBoard.BlockHistory + 5, blocks[^1].BlockId);
    }

    [Fact]
    public void Cleared_alarms_leave_the_document_after_an_hour()
    {
        var clock = new FakeTimeProvider(Start);
        var alarms = new TestAlarmFeed();
        alarms.Raise(new StatusAlarm("blinding", true, Start, Start.AddMinutes(1), null, "Dark counts vanished", 0, 5));
        var board = new StatusBoard("link-a", "bob", alarms, clock: clock);
        clock.Advance(TimeSpan.FromMinutes(30));
        Assert.Single(board.Snapshot().Alarms);
        clock.Advance(TimeSpan.FromMinutes(32));
        Assert.Empty(board.Snapshot().Alarms);
    }

    [Theory]
    [InlineData(true, false, false, "stopped")] // a security alarm stops key, whatever the last block did
    [InlineData(false, true, false, "attention")] // a warning while producing
    [InlineData(false, false, true, "attention")] // an unhealthy device while producing
    [InlineData(false, false, false, "producing")]
    public void The_headline_puts_what_matters_most_first(bool securityAlarm, bool warning, bool deviceDown, string state)
    {
        var last = new BlockPoint(4, Start, true, null, 2, 2, 12, 1000, 1000);
        var alarms = new List<AlarmEntry>();
        if (securityAlarm) alarms.Add(new AlarmEntry("blinding", true, true, Start, null, 4, "Detector blinding suspected", null, null));
        if (warning) alarms.Add(new AlarmEntry("drift", false, true, Start, null, 4, "Loss drifting up", null, null));
        var devices = new List<DeviceHealth> { new("detector", "single-photon detector", deviceDown ? "disconnected" : "connected", !deviceDown) };
        var headline = StatusBoard.Headline(last, alarms, devices);
        Assert.Equal(state, headline.State);
        if (securityAlarm) Assert.Equal("Detector blinding suspected", headline.Reason);
        if (deviceDown) Assert.Equal("detector is disconnected", headline.Reason);
    }

    private static JsonDocument Serialise(StatusBoard board) =>
        JsonDocument.Parse(JsonSerializer.Serialize(board.Snapshot(), StatusJsonContext.Default.StatusDocument));
}
