using System.Runtime.CompilerServices;

// The source-generated JSON contracts are internal; the CLI tests check them with reflection-based serialization off.
[assembly: InternalsVisibleTo("Qkd.Cli.Tests")]
