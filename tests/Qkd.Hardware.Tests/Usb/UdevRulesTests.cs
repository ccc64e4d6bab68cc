using System.Text.RegularExpressions;
using Qkd.Hardware.Transport.Usb;

namespace Qkd.Hardware.Tests.Usb;

/// <summary>udev-rules/70-qkd.rules must grant group qkd every product in <see cref="UsbDeviceIds"/>, and nothing else.</summary>
public partial class UdevRulesTests
{
    private static readonly string RulesPath = Path.Combine(AppContext.BaseDirectory, "Usb", "Recordings", "70-qkd.rules");

    [Fact]
    public void Every_usb_product_has_a_qkd_group_rule_with_a_stable_symlink()
    {
        var rules = ParseRules();
        foreach (var product in UsbDeviceIds.Products)
        {
            var pid = product.ProductId.ToString("x4");
            var rule = Assert.Single(rules, r =>
                r.Get("SUBSYSTEM", "==") == "usb" && r.Get("ATTR{idVendor}", "==") == "1209" && r.Get("ATTR{idProduct}", "==") == pid);
            Assert.Equal("usb_device", rule.Get("ENV{DEVTYPE}", "=="));
            Assert.Equal("qkd", rule.Get("GROUP", "="));
            Assert.Equal("0660", rule.Get("MODE", "="));
            Assert.Equal($"qkd/{product.SymlinkStem}-$attr{{serial}}", rule.Get("SYMLINK", "+="));
        }
    }

    [Fact]
    public void Every_usb_serial_port_of_our_products_gets_a_tty_symlink_and_is_kept_from_modem_manager()
    {
        var rules = ParseRules();
        foreach (var product in UsbDeviceIds.Products)
        {
            var pid = product.ProductId.ToString("x4");
            var rule = Assert.Single(rules, r =>
                r.Get("SUBSYSTEM", "==") == "tty" && r.Get("ATTRS{idVendor}", "==") == "1209" && r.Get("ATTRS{idProduct}", "==") == pid);
            Assert.Equal("qkd", rule.Get("GROUP", "="));
            Assert.Equal($"qkd/{product.SymlinkStem}-$attr{{serial}}-tty", rule.Get("SYMLINK", "+="));
            Assert.Equal("1", rule.Get("ENV{ID_MM_DEVICE_IGNORE}", "="));
        }
    }

    [Fact]
    public void No_rule_names_a_product_the_code_does_not_know()
    {
        foreach (var rule in ParseRules())
        {
            var vid = rule.Get("ATTR{idVendor}", "==") ?? rule.Get("ATTRS{idVendor}", "==");
            var pid = rule.Get("ATTR{idProduct}", "==") ?? rule.Get("ATTRS{idProduct}", "==");
            if (vid is null && pid is null) continue;
            Assert.NotNull(UsbDeviceIds.Find(Convert.ToUInt16(vid, 16), Convert.ToUInt16(pid, 16)));
        }
    }

    private static List<Rule> ParseRules()
    {
        var rules = new List<Rule>();
        foreach (var raw in File.ReadAllLines(RulesPath))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var pairs = KeyValue().Matches(line).Select(m => (Key: m.Groups["key"].Value, Op: m.Groups["op"].Value, Value: m.Groups["value"].Value)).ToList();
            Assert.NotEmpty(pairs); // every non-comment line is a rule made of KEY op "value" pairs
            rules.Add(new Rule(pairs));
        }

        Assert.NotEmpty(rules);
        return rules;
    }

    [GeneratedRegex("""(?<key>[A-Z_]+(\{[^}]*\})?)\s*(?<op>==|!=|\+=|-=|:=|=)\s*"(?<value>[^"]*)"(,|\s|$)""")]
    private static partial Regex KeyValue();

    private sealed record Rule(List<(string Key, string Op, string Value)> Pairs)
    {
        public string? Get(string key, string op) =>
            Pairs.Where(p => p.Key == key && p.Op == op).Select(p => p.Value).SingleOrDefault();
    }
}
