using Qkd.Core.Bits;

namespace Qkd.Core.Keys;

/// <summary>
/// Where a distiller hands a finished secret key. The sink must copy what it keeps: the distiller zeroises the
/// bits as soon as <see cref="Accept"/> returns. Implementations must never log key material.
/// </summary>
public interface IKeySink
{
    void Accept(long blockId, PackedBits key);
}
