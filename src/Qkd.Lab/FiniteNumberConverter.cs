using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Qkd.Lab;

/// <summary>
/// The lab reports' guard against NaN and infinity: a non-finite double refuses to be written (a JSON exception that
/// the serializer completes with the field's path, e.g. <c>$.detectors[1].delayPs</c>) instead of reaching a report as
/// "NaN", which JSON cannot carry and the schemas refuse. A value the analysis could not give goes through
/// <see cref="LabReport.Finite(double)"/> and is written as null. Reading accepts numbers and numeric strings, finite only.
/// </summary>
public sealed class FiniteNumberConverter : JsonConverter<double>
{
    public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        double value = reader.TokenType switch
        {
            JsonTokenType.Number => reader.GetDouble(),
            JsonTokenType.String when double.TryParse(reader.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out double parsed) => parsed,
            _ => throw new JsonException($"Expected a number, found {reader.TokenType}."),
        };
        if (!double.IsFinite(value)) throw new JsonException($"{value} is not a finite number.");
        return value;
    }

    public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (!double.IsFinite(value))
            throw new JsonException($"A report value is {value.ToString(CultureInfo.InvariantCulture)}: NaN and infinity never reach a report (pass it through LabReport.Finite to write null).");
        writer.WriteNumberValue(value);
    }
}
