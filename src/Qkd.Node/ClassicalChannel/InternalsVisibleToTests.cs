using System.Runtime.CompilerServices;

// The pad store's send and read operations are the channel's alone; the tests drive them directly.
[assembly: InternalsVisibleTo("Qkd.Node.Tests")]
