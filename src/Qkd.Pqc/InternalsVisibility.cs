using System.Runtime.CompilerServices;

// Known-answer tests inject FIPS 203's message m into BouncyCastle's encapsulation.
[assembly: InternalsVisibleTo("Qkd.Pqc.Tests")]
