"""The provable moderation log: an append-only RFC 6962 Merkle tree of public leaves with
signed heads, its proofs, and the tools that check it (verify, witness)."""
