"""Presentation: what the warehouse holds, shown to people (what-changed markdown, tables,
the HTML report, exports). It reads through warehouse/ and never writes the database; the
storage modules never import it."""
