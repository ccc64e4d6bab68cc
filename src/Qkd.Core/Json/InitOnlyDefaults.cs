using System.Diagnostics.CodeAnalysis;
using System.Reflection;
using System.Text.Json.Serialization.Metadata;

namespace Qkd.Core.Json;

/// <summary>
/// Keeps the initialiser values of init-only properties that a JSON document leaves out, under source-generated
/// contracts. The generator fills every init-only property in one object initialiser, so a property absent from the
/// document gets <c>default</c> (0, null) instead of the value its declaration gives (dotnet/runtime#84484; reflection
/// contracts never had this problem, and a config that leaves <c>durationSeconds</c> out must still mean 1 s).
/// </summary>
/// <remarks>
/// The modifier gives <c>T</c>'s contract its parameterless constructor (the initialisers run) and
/// replaces the generated init-only setters, which only throw, by the properties' own setters. Both are reached
/// through the annotations on <c>T</c>, which the trimmer and the Native AOT compiler honour: the
/// constructor and the property setters of every <c>T</c> named at a call site are kept, and calling a
/// kept method through reflection needs no code generation. Only documents read this way pay for it (configs and
/// profiles, a few per process); reports are written through the plain generated contracts.
/// </remarks>
public static class InitOnlyDefaults
{
    /// <summary>A contract modifier for <typeparamref name="T"/> (it leaves every other type's contract as it is).</summary>
    public static Action<JsonTypeInfo> For<
        [DynamicallyAccessedMembers(DynamicallyAccessedMemberTypes.PublicParameterlessConstructor | DynamicallyAccessedMemberTypes.PublicProperties)] T>()
        where T : class
    {
        return typeInfo =>
        {
            if (typeInfo.Type != typeof(T) || typeInfo.Kind != JsonTypeInfoKind.Object) return;
            // Required members are still checked: the contract marks them, whichever constructor runs.
            typeInfo.CreateObject = static () => Activator.CreateInstance<T>();
            foreach (JsonPropertyInfo property in typeInfo.Properties)
            {
                if (property.Set is null || property.AttributeProvider is not PropertyInfo declared) continue;
                MethodInfo? setter = typeof(T).GetProperty(declared.Name, BindingFlags.Public | BindingFlags.Instance)?.SetMethod;
                if (setter is null) continue;
                property.Set = (target, value) => setter.Invoke(target, [value]);
            }
        };
    }
}
