"""A corpus of correct apps written with plain aws-cdk-lib L2 constructs, one per edge kind the pack
knows, each in four forms (environment-agnostic, an explicit account and region, split across two
stacks, inside nested stacks), and a broken twin of each that the pack must refuse with exactly its
rule. ``kinds`` holds the builders; ``apps`` synthesizes a form; ``fixtures`` shares the assemblies."""
