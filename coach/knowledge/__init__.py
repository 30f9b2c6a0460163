"""The knowledge base: load files, chunk them, embed them and search them (dense + lexical)."""
