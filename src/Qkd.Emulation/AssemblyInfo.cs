using System.Runtime.CompilerServices;

// The samplers (ziggurat, alias tables) are internal building blocks; their own tests check them directly.
[assembly: InternalsVisibleTo("Qkd.Emulation.Tests")]
