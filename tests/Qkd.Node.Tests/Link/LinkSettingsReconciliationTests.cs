using Qkd.Distillation.ErrorCorrection;
using Qkd.Node.Link;

namespace Qkd.Node.Tests.Link;

/// <summary>The <c>reconciliation</c> link setting: parsed by name, passed to distillation with the pulse rate.</summary>
public class LinkSettingsReconciliationTests
{
    [Theory]
    [InlineData("cascade", ReconciliationMethod.Cascade)]
    [InlineData("ldpc", ReconciliationMethod.Ldpc)]
    [InlineData("auto", ReconciliationMethod.Auto)]
    [InlineData("LDPC", ReconciliationMethod.Ldpc)]
    public void Parses_each_method_and_hands_it_to_distillation(string json, ReconciliationMethod expected)
    {
        var settings = LinkSettings.Parse($$"""{ "reconciliation": "{{json}}", "pulseRateHz": 5e8 }""");
        Assert.Equal(expected, settings.Reconciliation);
        var options = settings.Distillation();
        options.Validate();
        Assert.Equal(expected, options.Reconciliation);
        Assert.Equal(5e8, options.PulseRateHz);
        Assert.Equal(expected, LinkSettings.Parse(settings.ToJson()).Reconciliation);
        Assert.Contains($"\"reconciliation\": \"{expected.ToString().ToLowerInvariant()}\"", settings.ToJson());
    }

    [Fact]
    public void Defaults_to_cascade_and_refuses_an_unknown_method()
    {
        Assert.Equal(ReconciliationMethod.Cascade, LinkSettings.Parse("{}").Reconciliation);
        var error = Assert.Throws<LinkSettingsException>(() => LinkSettings.Parse("""{ "reconciliation": "turbo" }"""));
        Assert.Contains("reconciliation", error.Setting + error.Message);
        Assert.Throws<LinkSettingsException>(() => LinkSettings.Parse("""{ "reconciliation": 1 }"""));
    }
}
