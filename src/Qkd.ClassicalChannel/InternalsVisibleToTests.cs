using System.Runtime.CompilerServices;

// The pad store's send and read operations are the channel's alone; the tests drive them directly.
[assembly: InternalsVisibleTo("Qkd.ClassicalChannel.Tests")]
// The node metrics tests count channel rejections directly, as the channel does.
[assembly: InternalsVisibleTo("Qkd.Node.Tests")]
