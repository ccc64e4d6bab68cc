namespace Qkd.Hil;

/// <summary>Every scenario on every target: inproc and pty here and in CI; hardware when QKD_HIL_HARDWARE names a bench.</summary>
public sealed class HilSuiteTests
{
    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var target in HilTargets.Names)
            foreach (var scenario in HilScenario.All)
                data.Add(target, scenario.Name);
        return data;
    }

    [Theory(Timeout = 600_000)] // each scenario takes seconds idle, minutes beside the whole suite on a loaded 2-core machine
    [MemberData(nameof(Cases))]
    public async Task Scenario_holds_on_target(string target, string scenario)
    {
        var hilTarget = HilTargets.Find(target, out string? unavailable);
        if (hilTarget is null) Assert.Skip(unavailable!);
        var run = new HilRun(hilTarget, Path.Combine(Path.GetTempPath(), "qkd-hil-keys"));
        var chosen = HilScenario.All.Single(s => s.Name == scenario);
        if (chosen.Needs is Fault fault && run.Unsupported(fault) is string why) Assert.Skip(why);
        await chosen.RunAsync(run, TestContext.Current.CancellationToken);
    }

    [Fact]
    public void Every_target_file_loads_and_the_example_names_all_three_devices()
    {
        foreach (var name in new[] { "inproc", "pty" }) Assert.NotNull(HilTargets.Find(name, out _));
        var example = HilTarget.Load(Path.Combine(AppContext.BaseDirectory, "targets", "hardware.example.json"));
        Assert.False(example.IsEmulated);
        Assert.NotNull(example.Devices!.Modulator.UsbSerialNumber);
        Assert.NotNull(example.Devices.Detector.SerialPort);
    }

    [Fact]
    public void A_bad_target_file_is_refused_naming_file_and_field()
    {
        string path = Path.Combine(Path.GetTempPath(), $"bad-target-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{ "name": "x", "kind": "emulated", "transport": "usb" }""");
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => HilTarget.Load(path));
            Assert.Contains(path, e.Message);
            Assert.Contains("transport", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
