using System.Runtime.CompilerServices;

// The samplers (ziggurat, alias tables) are internal building blocks; their own tests check them directly.
[assembly: InternalsVisibleTo("Qkd.Emulation.Tests")]

// The source-generated JSON contracts (LinkProfileJson) are internal; the CLI tests check them with reflection off.
[assembly: InternalsVisibleTo("Qkd.Cli.Tests")]
